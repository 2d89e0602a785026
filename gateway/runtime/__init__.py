"""Runtime: settings, the construction of the gateway's objects, its processes (web, workers),
the FastAPI app and the command line. The only layer that may import every other."""
