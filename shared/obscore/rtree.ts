/**
 * The spatial prefilter of ivoa.ObsCore: the R*Tree `ivoa_obscore_rtree` holds each row's
 * footprint as a 3-D unit-vector bounding box (id = the row's `_id`), so a cone or region
 * query asks it for the rows whose box meets the shape's box instead of scanning the table.
 * The exact geometric test still runs on what it returns.
 */
import type { CartesianBox } from '../sky';

export const OBSCORE_RTREE = 'ivoa_obscore_rtree';

/** `<rowId> IN (ids of the R*Tree boxes meeting box)`, with its bound values. */
export function rtreePrefilter(rowId: string, box: CartesianBox): { sql: string; params: number[] } {
  return {
    sql: `${rowId} IN (SELECT id FROM "${OBSCORE_RTREE}" WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ? AND zmin <= ? AND zmax >= ?)`,
    params: [box.xMax, box.xMin, box.yMax, box.yMin, box.zMax, box.zMin],
  };
}
