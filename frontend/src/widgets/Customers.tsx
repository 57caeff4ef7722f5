import { useState } from 'react';
import { call, callTagged } from '../api/client';
import type { Customer, CustomerInput } from '../api/types';
import { useSignedIn } from '../core/context';
import { FormCard, useFormValues } from '../core/form';
import { PagedTable, SearchBar, useEditing } from '../core/list';
import { Link, Notice, TextArea, TextField, opt, usePaged, useSubmit } from '../core/ui';
import { useStrings } from '../i18n';

const CUSTOMER_FIELDS = ['name', 'customerNumber', 'contactName', 'contactPhone', 'contactEmail', 'notes'] as const;
const EMPTY = { name: '', customerNumber: '', contactName: '', contactPhone: '', contactEmail: '', notes: '' };

interface CustomerFormProps {
  /** The customer to edit; absent to create one. */
  customerId?: string;
  onDone: (c: Customer) => void;
  onCancel: () => void;
}

/** CustomerForm creates or edits a customer; edits send If-Match with the ETag read first. */
export function CustomerForm({ customerId, onDone, onCancel }: CustomerFormProps) {
  const strings = useStrings();
  const t = strings.customers;
  const { api } = useSignedIn();
  const form = useFormValues(
    EMPTY,
    customerId
      ? {
          load: () => callTagged(api.GET('/customers/{customerId}', { params: { path: { customerId } } })),
          values: (c: Customer) => ({
            name: c.name,
            customerNumber: c.customerNumber,
            contactName: c.contactName,
            contactPhone: c.contactPhone,
            contactEmail: c.contactEmail,
            notes: c.notes ?? '',
          }),
        }
      : undefined,
    [api, customerId],
  );
  const submit = useSubmit(CUSTOMER_FIELDS);
  if (form.pending) return form.pending;

  const { values, set, etag } = form;
  const save = async () => {
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
  };
  const fe = submit.fieldErrors;
  return (
    <FormCard submit={submit} heading={customerId ? t.editHeading(values.name) : t.newHeading} onSubmit={save} onCancel={onCancel}>
      <TextField label={t.name} name="name" required value={values.name} onChange={set('name')} error={fe.name} autoFocus />
      <TextField label={t.number} name="customerNumber" required value={values.customerNumber} onChange={set('customerNumber')} error={fe.customerNumber} />
      <TextField label={strings.common.contactName} name="contactName" value={values.contactName} onChange={set('contactName')} error={fe.contactName} />
      <TextField label={strings.common.contactPhone} name="contactPhone" type="tel" value={values.contactPhone} onChange={set('contactPhone')} error={fe.contactPhone} />
      <TextField label={strings.common.contactEmail} name="contactEmail" type="email" value={values.contactEmail} onChange={set('contactEmail')} error={fe.contactEmail} />
      <TextArea label={strings.common.notes} name="notes" value={values.notes} onChange={set('notes')} error={fe.notes} />
    </FormCard>
  );
}

/** Customers lists the customers the caller may see, with search and paging; admins create and edit. */
export function Customers() {
  const strings = useStrings();
  const t = strings.customers;
  const { api, me } = useSignedIn();
  const [query, setQuery] = useState('');
  const canManage = me.permissions.manageCustomers;
  const paged = usePaged<Customer>(
    (cursor) => call(api.GET('/customers', { params: { query: { q: query || undefined, cursor } } })),
    [api, query],
  );
  const editor = useEditing({ created: t.created, reload: paged.reload });

  return (
    <section aria-labelledby="cp-customers-h">
      <h2 id="cp-customers-h">{t.heading}</h2>
      <div className="cp-toolbar">
        <SearchBar label={t.searchLabel} onSearch={setQuery} />
        {canManage && !editor.open && (
          <button type="button" className="cp-button cp-primary" onClick={() => editor.start('new')}>
            {t.new}
          </button>
        )}
      </div>
      {editor.notice && <Notice>{editor.notice}</Notice>}
      {canManage && editor.open && <CustomerForm key={editor.id ?? 'new'} customerId={editor.id} onCancel={editor.cancel} onDone={editor.done} />}
      <PagedTable
        paged={paged}
        label={t.tableLabel}
        empty={t.empty}
        rowKey={(c) => c.id}
        columns={[
          { header: t.name, cell: (c) => <Link to={`#/customers/${c.id}`}>{c.name}</Link> },
          { header: t.number, cell: (c) => c.customerNumber },
          { header: strings.common.contactName, cell: (c) => c.contactName || strings.common.none },
        ]}
        actions={
          canManage
            ? (c) => (
                <button type="button" className="cp-button" aria-label={`${strings.common.edit} ${c.name}`} onClick={() => editor.start(c.id)}>
                  {strings.common.edit}
                </button>
              )
            : undefined
        }
      />
    </section>
  );
}
