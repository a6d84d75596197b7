"""A device provisioning itself over MQTT, as ThingsBoard's provisioning reference describes it,
with Eclipse Paho's Python client (Debian's python3-paho-mqtt): connect as "provision", subscribe
to /provision/response, publish the request to /provision/request, read the answer; on SUCCESS,
connect again with the access token as the username and publish a position to
v1/devices/me/telemetry at QoS 1.

Usage: thingsboard_provision.py HOST PORT KEY SECRET DEVICE_NAME LAT LON
Prints the answer as one line of JSON, then "published" once the telemetry was acknowledged.
"""
import json
import sys
import threading

import paho.mqtt.client as mqtt

host, port, key, secret, device_name, lat, lon = sys.argv[1:8]
answered = threading.Event()
answer = {}


def on_connect(client, _userdata, _flags, rc):
    if rc != 0:
        print(json.dumps({"connack": rc}), flush=True)
        sys.exit(2)
    client.subscribe("/provision/response", qos=1)
    request = {"deviceName": device_name, "provisionDeviceKey": key, "provisionDeviceSecret": secret}
    client.publish("/provision/request", json.dumps(request), qos=1)


def on_message(client, _userdata, message):
    answer.update(json.loads(message.payload.decode("utf-8")))
    answered.set()
    client.disconnect()


provisioning = mqtt.Client(client_id="")
provisioning.username_pw_set("provision")
provisioning.on_connect = on_connect
provisioning.on_message = on_message
provisioning.connect(host, int(port), keepalive=30)
provisioning.loop_start()
if not answered.wait(10):
    print(json.dumps({"timeout": True}), flush=True)
    sys.exit(3)
provisioning.loop_stop()
print(json.dumps(answer), flush=True)
if answer.get("status") != "SUCCESS":
    sys.exit(0)

device = mqtt.Client(client_id="")
device.username_pw_set(answer["credentialsValue"])
device.connect(host, int(port), keepalive=30)
device.loop_start()
sent = device.publish("v1/devices/me/telemetry", json.dumps({"latitude": float(lat), "longitude": float(lon), "batteryLevel": 87}), qos=1)
sent.wait_for_publish(10)
print("published" if sent.is_published() else "not published", flush=True)
device.disconnect()
device.loop_stop()
