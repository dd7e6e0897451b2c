// Small DOM helpers. Text from the server only ever becomes text nodes or
// properties, never markup, so a message cannot inject elements.

// `el('p', { className: 'x' }, 'text', child)`: an element with the given
// properties and children (strings become text nodes; null is skipped).
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (name === 'role' || name.startsWith('aria')) {
      node.setAttribute(
        name.replace(/^aria([A-Z])/, (_, c) => `aria-${c.toLowerCase()}`),
        value,
      );
    } else {
      node[name] = value;
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

// A message's time as a reader wants it in a list: the time of day, with
// the day too when it was not today.
export function formatTime(date) {
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay ? timeFormat.format(date) : `${dayFormat.format(date)} ${timeFormat.format(date)}`;
}

export function formatDateTime(date) {
  return dateTimeFormat.format(date);
}

// Makes `parent` show one element per item of `items` (pairs of a key and
// the item), in order. An element is made by `make(item)` the first time
// its key is seen, kept in `cache`, and brought up to date by
// `update(element, item)` every time: it is never rebuilt, so a focused
// button keeps its focus when the list around it changes.
export function renderKeyed(parent, cache, items, make, update) {
  const nodes = items.map(([key, item]) => {
    let node = cache.get(key);
    if (node === undefined) {
      node = make(item);
      cache.set(key, node);
    }
    update(node, item);
    return node;
  });
  const keys = new Set(items.map(([key]) => key));
  for (const key of [...cache.keys()]) {
    if (!keys.has(key)) cache.delete(key);
  }
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}
