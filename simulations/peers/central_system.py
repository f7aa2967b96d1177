"""A minimal OCPP 1.6J central system on the Python `ocpp` package, for side-by-side load runs.

It is what many custom central systems start from: the package's `ChargePoint` class with a
handler per action, and the package's schema validation left on (its default) in both
directions. It accepts any charger id, answers BootNotification (Accepted), Heartbeat,
StatusNotification, Authorize (Accepted), StartTransaction (a new id), StopTransaction and
MeterValues, and keeps nothing but a transaction counter: the figures measure the library and
the protocol stack, not a store.

usage: central_system.py [--host 127.0.0.1] [--port 9700]
then:  chargers connect to ws://HOST:PORT/ocpp/{charger_id} with subprotocol ocpp1.6
"""

import argparse
import asyncio
import itertools
import logging
from datetime import datetime, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Cp
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

TRANSACTIONS = itertools.count(1)


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class ChargePoint(Cp):
    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor, charge_point_model, **kwargs):
        return call_result.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on(Action.heartbeat)
    def on_heartbeat(self):
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    def on_status_notification(self, connector_id, error_code, status, **kwargs):
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag):
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id, id_tag, meter_start, timestamp, **kwargs):
        return call_result.StartTransaction(
            transaction_id=next(TRANSACTIONS), id_tag_info={"status": "Accepted"}
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(self, meter_stop, timestamp, transaction_id, **kwargs):
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def on_meter_values(self, connector_id, meter_value, **kwargs):
        return call_result.MeterValues()


async def on_connect(websocket):
    requested = websocket.request.headers.get("Sec-WebSocket-Protocol", "")
    if "ocpp1.6" not in requested:
        await websocket.close()
        return
    charger_id = websocket.request.path.rstrip("/").split("/")[-1]
    try:
        await ChargePoint(charger_id, websocket).start()
    except websockets.exceptions.ConnectionClosed:
        pass


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9700)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    server = await websockets.serve(
        on_connect, args.host, args.port, subprotocols=["ocpp1.6"], max_queue=None
    )
    print(f"listening on ws://{args.host}:{args.port}/ocpp", flush=True)
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
