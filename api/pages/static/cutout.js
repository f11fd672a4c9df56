// The cutout page: when the preview cannot be drawn, say why (the SODA answer: 204 when the
// circle holds no pixel of the image, else its text/plain error).
import { el } from './common.js';

const img = document.getElementById('cutout-preview');

async function explain() {
  let message;
  try {
    const reply = await fetch(img.src);
    message =
      reply.status === 204
        ? 'The circle holds no pixel of this image.'
        : reply.ok
          ? `The service answered ${reply.headers.get('Content-Type') ?? 'something'}, not a picture: it draws no cutout previews.`
          : (await reply.text()).trim() || `HTTP ${reply.status}`;
  } catch (err) {
    message = `The preview could not be fetched: ${err}`;
  }
  img.replaceWith(el('p', { class: 'problem', id: 'cutout-error' }, message));
}

if (img) {
  // The module runs after parsing: the image may have failed already.
  if (img.complete && img.naturalWidth === 0) void explain();
  else img.addEventListener('error', () => void explain(), { once: true });
}
