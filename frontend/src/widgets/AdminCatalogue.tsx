import { useMemo, useState } from 'react';
import { call, callTagged, type Api } from '../api/client';
import type { Page, ProductVersion, SubscriptionLevel, TicketType } from '../api/types';
import { useSignedIn } from '../core/context';
import { FormCard } from '../core/form';
import { PagedTable } from '../core/list';
import { CheckField, ConfirmButton, Notice, TextArea, TextField, usePaged, useSubmit } from '../core/ui';
import { useStrings } from '../i18n';
import type { Strings } from '../i18n';

const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;

type Values = Record<string, string | boolean>;
interface FieldSpec {
  name: string;
  label: string;
  kind: 'text' | 'textarea' | 'date' | 'number' | 'checkbox';
  required?: boolean;
}

interface Kind<T extends { id: string; name: string }> {
  title: string;
  table: string;
  newLabel: string;
  fields: FieldSpec[];
  columns: { label: string; value: (x: T) => string }[];
  empty: () => Values;
  fromItem: (x: T) => Values;
  list: (api: Api, cursor?: string) => Promise<Page<T>>;
  get: (api: Api, id: string) => Promise<{ data: T; etag?: string }>;
  save: (api: Api, v: Values, id?: string, etag?: string) => Promise<T>;
  remove: (api: Api, id: string) => Promise<unknown>;
}

const s = (v: Values, k: string) => String(v[k] ?? '').trim();
const o = (v: Values, k: string) => s(v, k) || undefined;

const versions = (strings: Strings): Kind<ProductVersion> => {
  const t = strings.catalogue;
  return {
  title: t.versions,
  table: t.versionsTable,
  newLabel: t.newVersion,
  fields: [
    { name: 'name', label: strings.common.name, kind: 'text', required: true },
    { name: 'startDate', label: t.startDate, kind: 'date', required: true },
    { name: 'endDate', label: t.endDate, kind: 'date' },
    { name: 'active', label: strings.common.active, kind: 'checkbox' },
  ],
  columns: [
    { label: t.startDate, value: (x) => x.startDate },
    { label: t.endDate, value: (x) => x.endDate ?? strings.common.none },
    { label: strings.common.active, value: (x) => (x.active ? strings.common.yes : strings.common.no) },
  ],
  empty: () => ({ name: '', startDate: '', endDate: '', active: true }),
  fromItem: (x) => ({ name: x.name, startDate: x.startDate, endDate: x.endDate ?? '', active: x.active }),
  list: (api, cursor) => call(api.GET('/product-versions', { params: { query: { cursor } } })),
  get: (api, id) => callTagged(api.GET('/product-versions/{id}', { params: { path: { id } } })),
  save: (api, v, id, etag) => {
    const body = { name: s(v, 'name'), startDate: s(v, 'startDate'), endDate: o(v, 'endDate'), active: Boolean(v.active) };
    return id
      ? call(api.PUT('/product-versions/{id}', { params: { path: { id }, header: { 'If-Match': etag } }, body }))
      : call(api.POST('/product-versions', { body }));
  },
  remove: (api, id) => call(api.DELETE('/product-versions/{id}', { params: { path: { id } } })),
  };
};

const levels = (strings: Strings): Kind<SubscriptionLevel> => {
  const t = strings.catalogue;
  return {
  title: t.levels,
  table: t.levelsTable,
  newLabel: t.newLevel,
  fields: [
    { name: 'name', label: strings.common.name, kind: 'text', required: true },
    { name: 'description', label: strings.common.description, kind: 'textarea' },
    { name: 'rank', label: t.rank, kind: 'number', required: true },
    ...PRIORITIES.flatMap((p): FieldSpec[] => [
      { name: `first.${p}`, label: t.firstResponse(strings.tickets.priorityName(p)), kind: 'number' },
      { name: `resolution.${p}`, label: t.resolution(strings.tickets.priorityName(p)), kind: 'number' },
    ]),
  ],
  columns: [
    { label: t.rank, value: (x) => String(x.rank) },
    { label: strings.common.description, value: (x) => x.description || strings.common.none },
  ],
  empty: () => ({ name: '', description: '', rank: '0' }),
  fromItem: (x) => {
    const v: Values = { name: x.name, description: x.description, rank: String(x.rank) };
    for (const st of x.slaTargets) {
      v[`first.${st.priority}`] = String(st.firstResponseHours);
      v[`resolution.${st.priority}`] = String(st.resolutionHours);
    }
    return v;
  },
  list: (api, cursor) => call(api.GET('/subscription-levels', { params: { query: { cursor } } })),
  get: (api, id) => callTagged(api.GET('/subscription-levels/{id}', { params: { path: { id } } })),
  save: (api, v, id, etag) => {
    const slaTargets = PRIORITIES.filter((p) => s(v, `first.${p}`) || s(v, `resolution.${p}`)).map((p) => ({
      priority: p,
      firstResponseHours: Number(s(v, `first.${p}`)),
      resolutionHours: Number(s(v, `resolution.${p}`)),
    }));
    const body = { name: s(v, 'name'), description: o(v, 'description'), rank: Number(s(v, 'rank')), slaTargets };
    return id
      ? call(api.PUT('/subscription-levels/{id}', { params: { path: { id }, header: { 'If-Match': etag } }, body }))
      : call(api.POST('/subscription-levels', { body }));
  },
  remove: (api, id) => call(api.DELETE('/subscription-levels/{id}', { params: { path: { id } } })),
  };
};

const types = (strings: Strings): Kind<TicketType> => {
  const t = strings.catalogue;
  return {
  title: t.types,
  table: t.typesTable,
  newLabel: t.newType,
  fields: [
    { name: 'name', label: strings.common.name, kind: 'text', required: true },
    { name: 'description', label: strings.common.description, kind: 'textarea' },
    { name: 'active', label: strings.common.active, kind: 'checkbox' },
  ],
  columns: [
    { label: strings.common.description, value: (x) => x.description || strings.common.none },
    { label: strings.common.active, value: (x) => (x.active ? strings.common.yes : strings.common.no) },
  ],
  empty: () => ({ name: '', description: '', active: true }),
  fromItem: (x) => ({ name: x.name, description: x.description, active: x.active }),
  list: (api, cursor) => call(api.GET('/ticket-types', { params: { query: { cursor } } })),
  get: (api, id) => callTagged(api.GET('/ticket-types/{id}', { params: { path: { id } } })),
  save: (api, v, id, etag) => {
    const body = { name: s(v, 'name'), description: o(v, 'description'), active: Boolean(v.active) };
    return id
      ? call(api.PUT('/ticket-types/{id}', { params: { path: { id }, header: { 'If-Match': etag } }, body }))
      : call(api.POST('/ticket-types', { body }));
  },
  remove: (api, id) => call(api.DELETE('/ticket-types/{id}', { params: { path: { id } } })),
  };
};

function CatalogueForm<T extends { id: string; name: string }>({
  kind,
  initial,
  editing,
  onDone,
  onCancel,
}: {
  kind: Kind<T>;
  initial: Values;
  editing?: { id: string; etag?: string; name: string };
  onDone: (x: T) => void;
  onCancel: () => void;
}) {
  const t = useStrings().catalogue;
  const { api } = useSignedIn();
  const [v, setV] = useState<Values>(initial);
  const submit = useSubmit(kind.fields.map((f) => f.name));
  const heading = editing ? t.editHeading(editing.name) : kind.newLabel;
  const save = async () => onDone(await kind.save(api, v, editing?.id, editing?.etag));
  return (
    <FormCard submit={submit} heading={heading} level="h4" onSubmit={save} onCancel={onCancel}>
      {kind.fields.map((f) =>
        f.kind === 'checkbox' ? (
          <CheckField key={f.name} label={f.label} checked={Boolean(v[f.name])} onChange={(e) => setV((x) => ({ ...x, [f.name]: e.target.checked }))} />
        ) : f.kind === 'textarea' ? (
          <TextArea key={f.name} label={f.label} value={String(v[f.name] ?? '')} onChange={(e) => setV((x) => ({ ...x, [f.name]: e.target.value }))} error={submit.fieldErrors[f.name]} />
        ) : (
          <TextField
            key={f.name}
            label={f.label}
            type={f.kind}
            step={f.kind === 'number' ? 'any' : undefined}
            required={f.required}
            value={String(v[f.name] ?? '')}
            onChange={(e) => setV((x) => ({ ...x, [f.name]: e.target.value }))}
            error={submit.fieldErrors[f.name]}
          />
        ),
      )}
    </FormCard>
  );
}

function Section<T extends { id: string; name: string }>({ kind }: { kind: Kind<T> }) {
  const strings = useStrings();
  const t = strings.catalogue;
  const { api, me } = useSignedIn();
  const manage = me.permissions.manageCatalogue;
  const paged = usePaged<T>((cursor) => kind.list(api, cursor), [api]);
  const [form, setForm] = useState<{ initial: Values; editing?: { id: string; etag?: string; name: string } } | null>(null);
  const [notice, setNotice] = useState<string>();
  const action = useSubmit([]);
  const startEdit = (x: T) =>
    void action.run(async () => {
      const { data, etag } = await kind.get(api, x.id);
      setForm({ initial: kind.fromItem(data), editing: { id: x.id, etag, name: data.name } });
    });
  const remove = (x: T) =>
    void action.run(async () => {
      await kind.remove(api, x.id);
      paged.setItems((xs) => xs.filter((y) => y.id !== x.id));
    });
  const headingId = `cp-cat-${kind.table.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId}>{kind.title}</h3>
      {notice && <Notice>{notice}</Notice>}
      {action.summary}
      {manage && !form && (
        <button type="button" className="cp-button cp-primary" onClick={() => setForm({ initial: kind.empty() })}>
          {kind.newLabel}
        </button>
      )}
      {manage && form && (
        <CatalogueForm
          kind={kind}
          initial={form.initial}
          editing={form.editing}
          onCancel={() => setForm(null)}
          onDone={() => {
            setForm(null);
            setNotice(strings.common.saved);
            paged.reload();
          }}
        />
      )}
      <PagedTable
        paged={paged}
        label={kind.table}
        empty={t.empty}
        rowKey={(x) => x.id}
        columns={[{ header: strings.common.name, cell: (x) => x.name }, ...kind.columns.map((c) => ({ header: c.label, cell: c.value }))]}
        actions={
          manage
            ? (x) => (
                <>
                  <button type="button" className="cp-button" aria-label={`${strings.common.edit} ${x.name}`} onClick={() => startEdit(x)}>
                    {strings.common.edit}
                  </button>
                  <ConfirmButton label={`${strings.common.delete} ${x.name}`} confirm={t.deleteConfirm(x.name)} onConfirm={() => remove(x)} />
                </>
              )
            : undefined
        }
      />
    </section>
  );
}

/** AdminCatalogue manages product versions, subscription levels and ticket types. */
export function AdminCatalogue() {
  const strings = useStrings();
  const t = strings.catalogue;
  const kinds = useMemo(() => ({ versions: versions(strings), levels: levels(strings), types: types(strings) }), [strings]);
  return (
    <section aria-labelledby="cp-catalogue-h">
      <h2 id="cp-catalogue-h">{t.heading}</h2>
      <Section kind={kinds.versions} />
      <Section kind={kinds.levels} />
      <Section kind={kinds.types} />
    </section>
  );
}
