/**
 * FITS reading and writing (Definition of the FITS Standard 4.0): header cards, HDU location,
 * rectangle reads of 2-D images, and writing primary + IMAGE extension files.
 */
export { FitsError } from './errors';
export { FileVersions } from './version';
export { READ_AHEAD_BYTES, RowWindow, rowRuns, rowsAheadPay, type ReadAheadRun } from './row-window';
export {
  BLOCK_SIZE,
  CARD_LENGTH,
  Header,
  formatCard,
  formatFloat,
  formatValueToken,
  normalizeKeyword,
  parseCards,
  scalarLookup,
  splitRecords,
  type Card,
  type CardType,
  type CardValue,
  type FitsComplex,
  type NormalizedKeyword,
  type ScalarLookup,
  type SetOptions,
  type SettableValue,
} from './header';
export { dataLayout, findHdu, getHdu, padToBlock, scanHdus, type DataLayout, type HduInfo, type HduKind, type HduSelector } from './hdu';
export {
  DEFAULT_MAX_GAP,
  bytesPerPixel,
  checkRect,
  decodeBigEndian,
  defaultPhysicalType,
  imageLayout,
  planRawRect,
  toPhysical,
  type Bitpix,
  type ImageLayout,
  type PhysicalPixels,
  type PhysicalRect,
  type PhysicalType,
  type PixelScaling,
  type RawPixels,
  type RawRect,
  type Rect,
  type RectReadOptions,
} from './image';
export {
  bufferSource,
  fdSource,
  learntMaxGap,
  openFileSource,
  openFileSourceSync,
  runAsync,
  runSync,
  type ByteSource,
  type ReadPlan,
  type ReadRequest,
} from './io';
export { FitsFile, openFits, openFitsBuffer, openFitsSync, type HduRef, type PhysicalReadOptions } from './file';
export {
  fitsChunks,
  hduBytes,
  prepareImageHdu,
  writeFitsBuffer,
  writeFitsFile,
  type ImageData,
  type ImageHduInput,
  type PrepareOptions,
  type PreparedHdu,
} from './writer';
export { ImageHduTemplate } from './template';
