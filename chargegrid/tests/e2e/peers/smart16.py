"""An OCPP 1.6J charge point for the smart-charging tests, built on the Python `ocpp` package
with its schema validation on: every SetChargingProfile the scheduler sends is checked against
the official schema before it is accepted (an invalid one is answered with a CallError).

It boots, starts a transaction, sends meter values every half second, and stops the
transaction when a line arrives on stdin; it keeps answering calls until stdin closes. What it
sees is printed as JSON lines.

usage: smart16.py WS_URL CHARGER_ID ID_TAG
"""

import asyncio
import json
import sys
from datetime import datetime, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Cp
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def now():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class ChargePoint(Cp):
    @on(Action.set_charging_profile)
    def set_profile(self, connector_id, cs_charging_profiles, **kw):
        emit("profile", connector_id=connector_id, profile=cs_charging_profiles)
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def clear_profile(self, **kw):
        emit("clear", payload=kw)
        return call_result.ClearChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    def composite(self, **kw):
        return call_result.GetCompositeSchedule(status="Rejected")


async def meter(cp, tx):
    wh = 0
    while True:
        await asyncio.sleep(0.5)
        wh += 500
        value = {
            "timestamp": now(),
            "sampledValue": [
                {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "6900", "measurand": "Power.Active.Import", "unit": "W"},
            ],
        }
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[value]), suppress=False)


async def session(cp, id_tag):
    boot = await cp.call(call.BootNotification(charge_point_model="PySmart", charge_point_vendor="chargegrid-tests"), suppress=False)
    emit("boot", status=boot.status)
    await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing", timestamp=now()), suppress=False)
    start = await cp.call(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0, timestamp=now()), suppress=False)
    tx = start.transaction_id
    emit("started", transaction_id=tx)
    metering = asyncio.create_task(meter(cp, tx))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    metering.cancel()
    await cp.call(call.StopTransaction(meter_stop=1000, timestamp=now(), transaction_id=tx, reason="EVDisconnected"), suppress=False)
    emit("stopped")


async def main(url, charger_id, id_tag):
    async with websockets.connect(f"{url}/{charger_id}", subprotocols=["ocpp1.6"]) as ws:
        cp = ChargePoint(charger_id, ws)
        serving = asyncio.create_task(cp.start())
        try:
            await session(cp, id_tag)
        except Exception as e:  # report, then keep answering so the test sees why
            emit("error", error=repr(e))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        serving.cancel()
    emit("closed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
