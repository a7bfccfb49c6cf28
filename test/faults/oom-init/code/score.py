import os

ballast = None

def init():
    global ballast
    # A lookup table loaded whole at start: 400 MiB, touched (not lazily zeroed).
    ballast = b"\x01" * (400 * 2**20)
    print(f"loaded {len(ballast) >> 20} MiB lookup table")

def run(raw_data):
    return {"size": len(ballast)}
