# A service for a step bound with "call": {"http": {"url": "http://127.0.0.1:PORT/"}}.
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

done = {}  # idempotency key -> (status, reply): the work is done once per key

class Service(BaseHTTPRequestHandler):
    def do_POST(self):
        call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = call["idempotency_key"]
        if key not in done:
            if call["kind"] == "undo":  # the saga undoes the charge (its own key)
                done[key] = (200, {"writes": {"refunded": True}})
            elif call["data"].get("card") == "expired":
                done[key] = (422, {"failure": "card expired"})
            else:
                done[key] = (200, {"writes": {"paid": True, "charged_by": "python"}})
        status, reply = done[key]
        body = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer(("127.0.0.1", int(sys.argv[1])), Service).serve_forever()
