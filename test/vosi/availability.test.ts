import { availabilityXml } from '../../shared/vosi';
import { childNames, children, parseDocument } from './parse';

describe('VOSI availability', () => {
  test('minimal document: default namespace, available only', () => {
    const root = parseDocument(availabilityXml({ available: true }));
    expect(root.name).toBe('availability');
    expect(root.attributes).toEqual({ xmlns: 'http://www.ivoa.net/xml/VOSIAvailability/v1.0' });
    expect(childNames(root)).toEqual(['available']);
    expect(root.children[0]!.text).toBe('true');
  });

  test('all elements in schema order, times ISO 8601 UTC, notes escaped', () => {
    const xml = availabilityXml({
      available: false,
      notes: ['down for <maintenance> & "upgrades"', "back at 'noon'"],
      backAt: Date.UTC(2025, 5, 1, 12),
      downAt: Date.UTC(2025, 5, 1, 10),
      upSince: Date.UTC(2025, 0, 2, 3, 4, 5),
    });
    expect(xml).toContain('&lt;maintenance&gt; &amp; &quot;upgrades&quot;');
    const root = parseDocument(xml);
    expect(childNames(root)).toEqual(['available', 'upSince', 'downAt', 'backAt', 'note', 'note']);
    expect(root.children.map((c) => c.text)).toEqual([
      'false',
      '2025-01-02T03:04:05.000Z',
      '2025-06-01T10:00:00.000Z',
      '2025-06-01T12:00:00.000Z',
      'down for <maintenance> & "upgrades"',
      "back at 'noon'",
    ]);
    expect(children(root, 'note')).toHaveLength(2);
  });
});
