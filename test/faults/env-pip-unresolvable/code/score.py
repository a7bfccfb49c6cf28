import os
import pier_fault_pkg

def init():
    pass

def run(raw_data):
    return {"value": pier_fault_pkg.VALUE}
