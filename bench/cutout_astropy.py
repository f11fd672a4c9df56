"""astropy baseline of bench/cutout.ts: the same stamps cut with Cutout2D and written.

Usage: /usr/bin/python3 cutout_astropy.py JOB.json   (JOB written by bench/cutout.ts)

JOB = {"out_dir": dir for output files, "stamps": [{"file": path, "ra": deg, "dec": deg,
       "size": pixels}, ...], "planes": ["IMAGE", ...] (optional; default the three)}

Each file is opened once (memmap) with its IMAGE/MASK/VARIANCE arrays and WCS built once,
outside the timing, like the service's cached handles. Timed per stamp: Cutout2D of the three
planes at the sky position (size × size pixels) and writing a new file with a primary HDU and
the three cut planes with their shifted WCS headers: the same product as a SODA cutout.
Prints one JSON object: {"seconds": total, "stamps": n, "shape": [h, w] of the first}.
"""

import json
import os
import sys
import time
import warnings

from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS, FITSFixedWarning
import astropy.units as u

warnings.simplefilter("ignore", FITSFixedWarning)

job = json.load(open(sys.argv[1]))
planes = tuple(job.get("planes", ("IMAGE", "MASK", "VARIANCE")))
opened = {}
for stamp in job["stamps"]:
    if stamp["file"] not in opened:
        hdul = fits.open(stamp["file"], memmap=True)
        opened[stamp["file"]] = (hdul[0].header, [(hdul[p].data, WCS(hdul[p].header)) for p in planes])

os.makedirs(job["out_dir"], exist_ok=True)
shape = None
start = time.perf_counter()
for i, stamp in enumerate(job["stamps"]):
    primary, cubes = opened[stamp["file"]]
    position = SkyCoord(stamp["ra"] * u.deg, stamp["dec"] * u.deg, frame="icrs")
    hdus = [fits.PrimaryHDU(header=primary)]
    for name, (data, wcs) in zip(planes, cubes):
        c = Cutout2D(data, position, (stamp["size"], stamp["size"]), wcs=wcs, mode="trim")
        hdus.append(fits.ImageHDU(c.data, header=c.wcs.to_header(), name=name))
        shape = shape or list(c.data.shape)
    fits.HDUList(hdus).writeto(os.path.join(job["out_dir"], f"astropy-{i}.fits"), overwrite=True)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "stamps": len(job["stamps"]), "shape": shape}))
