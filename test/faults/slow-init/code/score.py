import time

def init():
    print("warming the cache", flush=True)
    time.sleep(4)
    print("cache warm", flush=True)

def run(raw_data):
    return {"ok": True}
