import featurestore_client

def init():
    pass

def run(raw_data):
    return {"ok": True}
