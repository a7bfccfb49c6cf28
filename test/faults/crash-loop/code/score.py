import os, sys, threading, time

def _watch():
    time.sleep(0.3)
    print("lost the connection to the feature store; exiting", file=sys.stderr, flush=True)
    os._exit(2)

def init():
    threading.Thread(target=_watch, daemon=True).start()

def run(raw_data):
    return {"ok": True}
