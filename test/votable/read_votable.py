"""Parses a VOTable with astropy (verify='exception', warnings as errors) and prints JSON."""
import json, math, sys, warnings
import numpy as np
from astropy.io.votable import parse

warnings.simplefilter('error')

def plain(v, mask):
    if isinstance(mask, (bool, np.bool_)) and bool(mask):
        return None
    if isinstance(v, np.ndarray):
        return [plain(x, False) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bytes):
        v = v.decode('utf-8')
    if isinstance(v, float) and not math.isfinite(v):
        return 'NaN' if math.isnan(v) else ('+Inf' if v > 0 else '-Inf')
    return v

vot = parse(sys.argv[1], verify='exception')
res = vot.resources[0]
table = res.tables[0]
arr = table.array
rows = [[] for _ in range(len(arr))]
for name in arr.dtype.names:
    col = arr[name]
    masks = np.ma.getmaskarray(col)
    for i in range(len(arr)):
        m = masks[i]
        if np.ndim(m) > 0:
            # Array cell: null when every element is masked, else element-wise nulls.
            rows[i].append(None if bool(np.all(m)) else [None if mm else plain(x, False) for x, mm in zip(np.asarray(col.data[i]).tolist(), m.tolist())])
        else:
            rows[i].append(plain(col.data[i], m))
print(json.dumps({
    'version': vot.version,
    'resourceType': res.type,
    'infos': [[i.name, i.value] for i in res.infos],
    'fields': [[f.name, f.datatype, f.arraysize, None if f.unit is None else str(f.unit), f.ucd, f.xtype] for f in table.fields],
    'format': table.format,
    'rows': rows,
}))
