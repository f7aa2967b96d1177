"""An OCPP 1.6J charge point over TLS (security profiles 2 and 3) with the Python `ocpp`
package: verifies the server against a CA, optionally presents a client certificate, optionally
sends Basic credentials, boots, and prints one JSON line with the outcome.

With --security-event TYPE it reports a security event after booting; with --csr FILE it sends
SignCertificate (security extension), waits for the central system's CertificateSigned CALL,
answers Accepted and writes the certificate chain to --chain-out.

usage: tls_cp.py WSS_URL CHARGER_ID CA_PEM [--cert PEM --key PEM] [--password PW]
                 [--security-event TYPE] [--csr CSR_PEM --chain-out FILE]
"""

import argparse
import asyncio
import base64
import datetime
import json
import ssl

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action


class SecureChargePoint(ChargePoint):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.chain = asyncio.get_event_loop().create_future()

    @on(Action.certificate_signed)
    async def on_certificate_signed(self, certificate_chain, **_):
        return call_result.CertificateSigned(status="Accepted")

    @after(Action.certificate_signed)
    async def after_certificate_signed(self, certificate_chain, **_):
        # Runs once the answer is sent, so the central system has it before our next CALL.
        if not self.chain.done():
            self.chain.set_result(certificate_chain)


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
            cp = SecureChargePoint(a.charger, ws)
            serving = asyncio.create_task(cp.start())
            boot = await cp.call(call.BootNotification(charge_point_model="TLS", charge_point_vendor="chargegrid-tests"), suppress=False)
            out = {"event": "boot", "status": boot.status, "tls": ws.transport.get_extra_info("ssl_object").version()}
            if a.security_event:
                now = datetime.datetime.now(datetime.timezone.utc).isoformat()
                await cp.call(call.SecurityEventNotification(type=a.security_event, timestamp=now, tech_info="test"), suppress=False)
            if a.csr:
                with open(a.csr) as f:
                    signed = await cp.call(call.SignCertificate(csr=f.read()), suppress=False)
                out["sign"] = signed.status
                if signed.status == "Accepted":
                    chain = await asyncio.wait_for(cp.chain, 30)
                    with open(a.chain_out, "w") as f:
                        f.write(chain)
                    out["chain_certificates"] = chain.count("BEGIN CERTIFICATE")
                    await cp.call(call.Heartbeat(), suppress=False)
            print(json.dumps(out), flush=True)
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
    p.add_argument("--security-event")
    p.add_argument("--csr")
    p.add_argument("--chain-out")
    asyncio.run(main(p.parse_args()))
