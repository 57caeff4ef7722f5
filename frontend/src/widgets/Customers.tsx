import { useEffect, useRef, useState, type FormEvent } from 'react';
import { call, callTagged } from '../api/client';
import type { Customer, CustomerInput } from '../api/types';
import { useSignedIn } from '../core/context';
import { Empty, ErrorView, Link, Loading, Notice, PagedFooter, TextArea, TextField, opt, usePaged, useSubmit } from '../core/ui';
import { strings } from '../strings';

const t = strings.customers;
const CUSTOMER_FIELDS = ['name', 'customerNumber', 'contactName', 'contactPhone', 'contactEmail', 'notes'] as const;

interface CustomerFormProps {
  /** The customer to edit; absent to create one. */
  customerId?: string;
  onDone: (c: Customer) => void;
  onCancel: () => void;
}

/** CustomerForm creates or edits a customer; edits send If-Match with the ETag read first. */
export function CustomerForm({ customerId, onDone, onCancel }: CustomerFormProps) {
  const { api } = useSignedIn();
  const [values, setValues] = useState<Record<(typeof CUSTOMER_FIELDS)[number], string>>({
    name: '',
    customerNumber: '',
    contactName: '',
    contactPhone: '',
    contactEmail: '',
    notes: '',
  });
  const [etag, setEtag] = useState<string>();
  const [loaded, setLoaded] = useState(!customerId);
  const [loadError, setLoadError] = useState<unknown>();
  const submit = useSubmit(CUSTOMER_FIELDS);

  useEffect(() => {
    if (!customerId) return;
    callTagged(api.GET('/customers/{customerId}', { params: { path: { customerId } } })).then(
      ({ data, etag }) => {
        setValues({
          name: data.name,
          customerNumber: data.customerNumber,
          contactName: data.contactName,
          contactPhone: data.contactPhone,
          contactEmail: data.contactEmail,
          notes: data.notes ?? '',
        });
        setEtag(etag);
        setLoaded(true);
      },
      setLoadError,
    );
  }, [api, customerId]);

  if (loadError !== undefined) return <ErrorView error={loadError} />;
  if (!loaded) return <Loading />;

  const set = (k: keyof typeof values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [k]: e.target.value }));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      const body: CustomerInput = {
        name: values.name.trim(),
        customerNumber: values.customerNumber.trim(),
        contactName: opt(values.contactName),
        contactPhone: opt(values.contactPhone),
        contactEmail: opt(values.contactEmail),
        notes: opt(values.notes),
      };
      const saved = customerId
        ? await call(api.PUT('/customers/{customerId}', { params: { path: { customerId }, header: { 'If-Match': etag } }, body }))
        : await call(api.POST('/customers', { body }));
      onDone(saved);
    });
  };
  const fe = submit.fieldErrors;
  return (
    <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-label={customerId ? strings.customers.editHeading(values.name) : t.newHeading}>
      <h3>{customerId ? t.editHeading(values.name) : t.newHeading}</h3>
      {submit.summary}
      <TextField label={t.name} name="name" required value={values.name} onChange={set('name')} error={fe.name} autoFocus />
      <TextField label={t.number} name="customerNumber" required value={values.customerNumber} onChange={set('customerNumber')} error={fe.customerNumber} />
      <TextField label={strings.common.contactName} name="contactName" value={values.contactName} onChange={set('contactName')} error={fe.contactName} />
      <TextField label={strings.common.contactPhone} name="contactPhone" type="tel" value={values.contactPhone} onChange={set('contactPhone')} error={fe.contactPhone} />
      <TextField label={strings.common.contactEmail} name="contactEmail" type="email" value={values.contactEmail} onChange={set('contactEmail')} error={fe.contactEmail} />
      <TextArea label={strings.common.notes} name="notes" value={values.notes} onChange={set('notes')} error={fe.notes} />
      <div className="cp-toolbar">
        <button type="submit" className="cp-button cp-primary" disabled={submit.busy}>
          {strings.common.save}
        </button>
        <button type="button" className="cp-button" onClick={onCancel}>
          {strings.common.cancel}
        </button>
      </div>
    </form>
  );
}

/** Customers lists the customers the caller may see, with search and paging; admins create and edit. */
export function Customers() {
  const { api, me } = useSignedIn();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  const [notice, setNotice] = useState<string>();
  const newButton = useRef<HTMLButtonElement>(null);
  const canManage = me.permissions.manageCustomers;
  const paged = usePaged<Customer>(
    (cursor) => call(api.GET('/customers', { params: { query: { q: query || undefined, cursor } } })),
    [api, query],
  );

  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    setQuery(q.trim());
  };

  return (
    <section aria-labelledby="cp-customers-h">
      <h2 id="cp-customers-h">{t.heading}</h2>
      <div className="cp-toolbar">
        <form role="search" onSubmit={onSearch} className="cp-toolbar">
          <TextField label={t.searchLabel} type="search" value={q} onChange={(e) => setQ(e.target.value)} />
          <button type="submit" className="cp-button">
            {strings.common.search}
          </button>
        </form>
        {canManage && editing === null && (
          <button
            ref={newButton}
            type="button"
            className="cp-button cp-primary"
            onClick={() => {
              setNotice(undefined);
              setEditing('new');
            }}
          >
            {t.new}
          </button>
        )}
      </div>
      {notice && <Notice>{notice}</Notice>}
      {canManage && editing !== null && (
        <CustomerForm
          customerId={editing === 'new' ? undefined : editing}
          onCancel={() => setEditing(null)}
          onDone={(c) => {
            setNotice(editing === 'new' ? t.created(c.name) : strings.common.saved);
            setEditing(null);
            paged.reload();
          }}
        />
      )}
      {!paged.loading && paged.error === undefined && paged.items.length === 0 ? (
        <Empty>{t.empty}</Empty>
      ) : (
        paged.items.length > 0 && (
          <div className="cp-table-wrap">
            <table aria-label={t.tableLabel}>
              <thead>
                <tr>
                  <th scope="col">{t.name}</th>
                  <th scope="col">{t.number}</th>
                  <th scope="col">{strings.common.contactName}</th>
                  {canManage && <th scope="col">{strings.common.actions}</th>}
                </tr>
              </thead>
              <tbody>
                {paged.items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={`#/customers/${c.id}`}>{c.name}</Link>
                    </td>
                    <td>{c.customerNumber}</td>
                    <td>{c.contactName || strings.common.none}</td>
                    {canManage && (
                      <td>
                        <button type="button" className="cp-button" aria-label={`${strings.common.edit} ${c.name}`} onClick={() => setEditing(c.id)}>
                          {strings.common.edit}
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      )}
      <PagedFooter paged={paged} />
    </section>
  );
}
