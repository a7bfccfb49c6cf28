import json, os

def init():
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "thresholds.json")
    with open(path) as f:
        json.load(f)

def run(raw_data):
    return {"ok": True}
