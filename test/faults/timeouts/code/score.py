import time

def init():
    pass

def run(raw_data):
    time.sleep(0.3)
    return {"ok": True}
