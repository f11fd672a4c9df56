"""astropy baseline of bench/fits.ts: Cutout2D + write on the same positions as ours.

Usage: /usr/bin/python3 fits_astropy.py JOB.json  (JOB written by bench/fits.ts)

JOB = {"image": path of the 4k x 4k FITS file, "hdu": "IMAGE", "out_dir": dir for output files,
       "warmup": n, "variants": ["minimal", "minimal_null", "same_output_null", ...],
       "sizes": [{"size": s, "x0": [...], "y0": [...]}, ...],
       "checks": [{"size": s, "x0": x, "y0": y, "ours": path of our cutout file}, ...]}

The file is opened once (memmap=True, outside the timed loops, like the service's cached
handle), its data array and WCS built once; then, per size and variant, after a warm-up, the
timed work per position is Cutout2D(data, position, (s, s), wcs=wcs) and writing a new file
(a fresh path per cutout, as ours; the *_null variants write to an open file object on /dev/null):
  minimal:      PrimaryHDU() + ImageHDU(cutout.data, header=cutout.wcs.to_header())
  same_output:  the headers ours writes: PrimaryHDU(header=<source primary header>) +
                ImageHDU(cutout.data, header=<copy of the source IMAGE header with CRPIX1/2 from
                cutout.wcs, CRPIX1A/2A and LTV1/2 shifted by the origin>)
Prints one JSON object on stdout: per-size/variant timings (ms per cutout) and the checks.
"""

import json
import os
import shutil
import sys
import time
import warnings

import numpy as np
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS
from astropy.wcs import FITSFixedWarning

warnings.simplefilter("ignore", FITSFixedWarning)


def cutout(data, wcs, x0, y0, size):
    # Cutout2D takes (x, y) 0-based; for an even size s it cuts [ceil(p - s/2), +s), so the
    # position x0 + s/2 cuts exactly columns x0 .. x0+s-1 (verified below via bbox_original).
    return Cutout2D(data, (x0 + size // 2, y0 + size // 2), (size, size), wcs=wcs)


def write_minimal(src, c, x0, y0, path):
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(c.data, header=c.wcs.to_header(), name="IMAGE")])
    hdul.writeto(path, overwrite=True)


def write_same_output(src, c, x0, y0, path):
    primary_header, image_header = src
    hdr = image_header.copy()
    hdr["CRPIX1"], hdr["CRPIX2"] = float(c.wcs.wcs.crpix[0]), float(c.wcs.wcs.crpix[1])
    for key, shift in (("CRPIX1A", x0), ("CRPIX2A", y0), ("LTV1", x0), ("LTV2", y0)):
        if key in hdr:
            hdr[key] = hdr[key] - shift
    hdul = fits.HDUList([fits.PrimaryHDU(header=primary_header), fits.ImageHDU(c.data, header=hdr)])
    hdul.writeto(path, overwrite=True)


# name: (writer, to a new file?); the *_null variants write the same file into an open file
# object on /dev/null (astropy's file-object path, no filesystem cost).
VARIANTS = {
    "minimal": (write_minimal, True),
    "same_output": (write_same_output, True),
    "minimal_null": (write_minimal, False),
    "same_output_null": (write_same_output, False),
}


def cutout_and_write(data, wcs, src, x0, y0, size, path, write=write_minimal):
    c = cutout(data, wcs, x0, y0, size)
    write(src, c, x0, y0, path)
    return c


def centre_sky(wcs, size):
    # Geometric centre of an s x s cutout, 0-based (s-1)/2.
    sky = wcs.pixel_to_world_values((size - 1) / 2.0, (size - 1) / 2.0)
    return [float(sky[0]), float(sky[1])]


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    out_dir = job["out_dir"]
    result = {"astropy": __import__("astropy").__version__, "numpy": np.__version__, "sizes": [], "checks": []}

    hdul = fits.open(job["image"], memmap=True)  # opened once, like our cached FitsFile
    hdu = hdul[job["hdu"]]
    data = hdu.data  # memmap view; pixels are read (from page cache) when a cutout is written
    wcs = WCS(hdu.header)
    src = (hdul[0].header, hdu.header)

    for spec in job["sizes"]:
        size = spec["size"]
        xs, ys = spec["x0"], spec["y0"]
        for variant in job["variants"]:
            write, to_file = VARIANTS[variant]
            out = f"{out_dir}/astropy-{variant}-{size}"
            os.mkdir(out)
            null = None if to_file else open(os.devnull, "wb")
            name = (lambda i: f"{out}/{i}.fits") if to_file else (lambda i: null)
            bbox_mismatch = 0
            for i in range(min(job["warmup"], len(xs))):
                cutout_and_write(data, wcs, src, xs[i], ys[i], size, name(f"warm-{i}"), write)
            times = []
            t_start = time.perf_counter()
            for i, (x0, y0) in enumerate(zip(xs, ys)):
                t0 = time.perf_counter()
                c = cutout_and_write(data, wcs, src, x0, y0, size, name(i), write)
                times.append((time.perf_counter() - t0) * 1000.0)
                # Outside the timed region: the rectangle astropy cut must be ours.
                (ymin, ymax), (xmin, xmax) = c.bbox_original
                if (xmin, ymin, xmax, ymax) != (x0, y0, x0 + size - 1, y0 + size - 1):
                    bbox_mismatch += 1
            total = time.perf_counter() - t_start
            if null is not None:
                null.close()
            shutil.rmtree(out)
            result["sizes"].append({"size": size, "variant": variant, "n": len(xs), "total_s": total, "ms": times,
                                    "bbox_mismatch": bbox_mismatch})

    # Correctness, on a few positions: our cutout file (read with astropy) against astropy's cutout.
    for k, chk in enumerate(job["checks"]):
        size, x0, y0 = chk["size"], chk["x0"], chk["y0"]
        path = f"{out_dir}/astropy-check-{k}.fits"
        c = cutout_and_write(data, wcs, src, x0, y0, size, path)
        with fits.open(chk["ours"]) as ours:
            o = ours["IMAGE"]
            ours_bytes = np.ascontiguousarray(o.data).astype(">f4").tobytes()
            theirs_bytes = np.ascontiguousarray(c.data).astype(">f4").tobytes()
            ours_wcs = WCS(o.header)
            ours_sky = centre_sky(ours_wcs, size)
            theirs_sky = centre_sky(c.wcs, size)
            # The same sky position from the full image's WCS at the cutout centre's original pixel.
            full = wcs.pixel_to_world_values(x0 + (size - 1) / 2.0, y0 + (size - 1) / 2.0)
            result["checks"].append({
                "size": size, "x0": x0, "y0": y0, "astropy_file": path,
                "shape_ours": list(o.data.shape), "shape_astropy": list(c.data.shape),
                "data_identical": ours_bytes == theirs_bytes,
                "crpix_ours": [float(o.header["CRPIX1"]), float(o.header["CRPIX2"])],
                "crpix_astropy": [float(v) for v in c.wcs.wcs.crpix],
                "crval_ours": [float(o.header["CRVAL1"]), float(o.header["CRVAL2"])],
                "crval_astropy": [float(v) for v in c.wcs.wcs.crval],
                "sky_ours": ours_sky, "sky_astropy": theirs_sky, "sky_full": [float(full[0]), float(full[1])],
            })
    hdul.close()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
