// The job page follows its job while it is active, through the job's event stream (the job URL
// asked for with Accept: text/event-stream, which EventSource sends): the server sends the
// phase and progress when they change, reading the job at most once a second and waking at once
// on a phase change (the UWS WAIT machinery). A new phase reloads the page (results, errors
// and actions are drawn by the server). A server restart is retried by EventSource itself,
// after the `retry` the server set (2 s).

const ACTIVE = ['PENDING', 'QUEUED', 'EXECUTING'];
const section = document.getElementById('progress');

function follow() {
  const phase = section.dataset.phase;
  if (!ACTIVE.includes(phase)) return;
  const bar = section.querySelector('progress');
  const label = section.querySelector('.progress-text');
  const events = new EventSource(section.dataset.jobUrl);
  events.addEventListener('message', (event) => {
    const view = JSON.parse(event.data);
    if (view.percent !== null) {
      bar.value = view.percent;
      bar.textContent = `${view.percent}%`;
    }
    label.textContent = view.text;
    if (view.phase !== phase) {
      events.close();
      section.dataset.phase = view.phase;
      // Let the last progress be seen, then draw the page of the new phase.
      setTimeout(() => location.reload(), 300);
    }
  });
  events.addEventListener('gone', () => {
    events.close();
    label.textContent = 'The job no longer exists.';
  });
  events.addEventListener('error', () => {
    // Closed for good (e.g. a 404 or 401 on reconnecting): say so; else EventSource retries.
    if (events.readyState === EventSource.CLOSED) label.textContent = 'Lost the connection to the job: reload the page.';
  });
}

if (section) follow();
