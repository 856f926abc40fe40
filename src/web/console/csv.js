// CSV for contact uploads, parsed in the browser (RFC 4180: quoted fields, "" escapes, CRLF or
// LF, commas and newlines inside quotes). The first row names the columns: phone (required),
// name, externalId; every other column becomes a contact variable.

export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

const ALIASES = { phone: 'phone', phonenumber: 'phone', number: 'phone', tel: 'phone', name: 'name', externalid: 'externalId', id: 'externalId' };

/** Rows → `{contacts, problems}` for POST /v1/campaigns/:id/contacts. */
export function contactsFromCsv(text) {
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  if (rows.length === 0) return { contacts: [], problems: ['The file is empty.'] };
  const header = rows[0].map((h) => h.trim());
  const keys = header.map((h) => ALIASES[h.toLowerCase().replace(/[^a-z]/g, '')] || h);
  if (!keys.includes('phone')) return { contacts: [], problems: ['No "phone" column in the first row.'] };
  const contacts = [];
  const problems = [];
  rows.slice(1).forEach((r, i) => {
    const c = { variables: {} };
    keys.forEach((k, j) => {
      const v = (r[j] ?? '').trim();
      if (k === 'phone' || k === 'name' || k === 'externalId') {
        if (v) c[k] = v;
      } else if (k && v) c.variables[k] = v;
    });
    if (!c.phone) return problems.push(`Row ${i + 2}: no phone number.`);
    if (Object.keys(c.variables).length === 0) delete c.variables;
    contacts.push(c);
  });
  return { contacts, problems };
}
