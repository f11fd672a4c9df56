"""The one-at-a-time way as the Rubin tutorial writes it, for bench/bulk.ts: pyvo from Python.

Usage: /usr/bin/python3 bulk_pyvo.py JOB.json   (JOB written by bench/bulk.ts)

JOB = {"url": the service's base URL, "stamps": [{"id": obs_publisher_did, "ra": deg,
       "dec": deg, "radius": deg}, ...]}

Each image's DataLink document is fetched once, before the timing (the tutorial fetches it per
image, and a batch has far fewer images than stamps). Timed per stamp, as the tutorial's
section 3.1 does it: a SodaQuery from the image's `cutout-sync` service descriptor, its CIRCLE,
and the FITS bytes read whole (execute_stream().read()), over one requests session.
Prints one JSON object: {"seconds": total, "stamps": n, "bytes": total bytes read}.
"""

import json
import sys
import time
import urllib.parse
import warnings

warnings.simplefilter("ignore")

import astropy.units as u
import requests
from pyvo.dal.adhoc import DatalinkResults, SodaQuery

job = json.load(open(sys.argv[1]))
session = requests.Session()
links = {}
for stamp in job["stamps"]:
    if stamp["id"] not in links:
        url = f"{job['url']}/api/datalink/links?ID={urllib.parse.quote(stamp['id'])}"
        links[stamp["id"]] = DatalinkResults.from_result_url(url, session=session)

total = 0
start = time.perf_counter()
for stamp in job["stamps"]:
    results = links[stamp["id"]]
    query = SodaQuery.from_resource(results, results.get_adhocservice_by_id("cutout-sync"), session=session)
    query.circle = (stamp["ra"], stamp["dec"], stamp["radius"] * u.deg)
    data = query.execute_stream().read()
    if not data.startswith(b"SIMPLE  ="):
        raise SystemExit(f"not a FITS file for {stamp['id']}: {data[:200]!r}")
    total += len(data)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "stamps": len(job["stamps"]), "bytes": total}))
