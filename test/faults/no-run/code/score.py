def init():
    pass

def predict(raw_data):
    return {"ok": True}
