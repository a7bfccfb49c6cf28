import time

def init():
    pass

def run(raw_data):
    time.sleep(0.2)
    return {"ok": True}
