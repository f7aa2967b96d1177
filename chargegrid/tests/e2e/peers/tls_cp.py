"""An OCPP 1.6J charge point over TLS (security profiles 2 and 3) with the Python `ocpp`
package: verifies the server against a CA, optionally presents a client certificate, optionally
sends Basic credentials, boots, and prints one JSON line with the outcome.

usage: tls_cp.py WSS_URL CHARGER_ID CA_PEM [--cert PEM --key PEM] [--password PW]
"""

import argparse
import asyncio
import base64
import json
import ssl

import websockets
from ocpp.v16 import ChargePoint, call


async def main(a):
    ctx = ssl.create_default_context(cafile=a.ca)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    headers = {}
    if a.password:
        token = base64.b64encode(f"{a.charger}:{a.password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        async with websockets.connect(f"{a.url}/{a.charger}", ssl=ctx, subprotocols=["ocpp1.6"], additional_headers=headers) as ws:
            cp = ChargePoint(a.charger, ws)
            serving = asyncio.create_task(cp.start())
            boot = await cp.call(call.BootNotification(charge_point_model="TLS", charge_point_vendor="chargegrid-tests"), suppress=False)
            print(json.dumps({"event": "boot", "status": boot.status, "tls": ws.transport.get_extra_info("ssl_object").version()}), flush=True)
            serving.cancel()
    except websockets.exceptions.InvalidStatus as e:
        print(json.dumps({"event": "refused", "status": e.response.status_code}), flush=True)
    except ssl.SSLError as e:
        print(json.dumps({"event": "tls_error", "error": str(e)}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("charger")
    p.add_argument("ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--password")
    asyncio.run(main(p.parse_args()))
