/**
 * The one error type of the FITS module. Messages name the file and HDU whenever they are
 * known so that a failed cutout can be traced to its source without a stack trace.
 */
export class FitsError extends Error {
  override readonly name = 'FitsError';
}

/** "<file> HDU <n>" plus the EXTNAME when there is one: the prefix every HDU-level error uses. */
export function hduLabel(fileName: string, index: number, extname?: string | null): string {
  return `${fileName} HDU ${index}${extname ? ` (${extname})` : ''}`;
}
