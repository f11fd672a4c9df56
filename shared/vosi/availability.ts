/**
 * The VOSI-availability document (VOSI 1.1 §3.2, schema VOSIAvailability-v1.0.xsd), which
 * DALI 1.1 §2.4 describes and TAP 1.1 §2 requires, anonymous.
 */
import { isoTime } from '../uws/time';
import { element, NAMESPACES, optionalText, textElement, xmlDocument } from './xml';

export interface Availability {
  available: boolean;
  /** When the service last became available (epoch ms). */
  upSince?: number;
  /** When the service is next scheduled to go down (epoch ms). */
  downAt?: number;
  /** When a service that is down is expected back (epoch ms). */
  backAt?: number;
  notes?: readonly string[];
}

const time = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : isoTime(ms));

/** `<availability xmlns="…VOSIAvailability/v1.0"><available>true</available>…</availability>`, elements in schema order. */
export function availabilityXml(availability: Availability): string {
  return xmlDocument(
    element('availability', { xmlns: NAMESPACES.vosiAvailability }, [
      textElement('available', String(availability.available)),
      optionalText('upSince', time(availability.upSince)),
      optionalText('downAt', time(availability.downAt)),
      optionalText('backAt', time(availability.backAt)),
      ...(availability.notes ?? []).map((note) => textElement('note', note)),
    ]),
  );
}
