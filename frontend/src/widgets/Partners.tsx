import { useState } from 'react';
import { call, callTagged } from '../api/client';
import type { Partner, PartnerInput } from '../api/types';
import { useSignedIn } from '../core/context';
import { FormCard, useFormValues } from '../core/form';
import { PagedTable, SearchBar, useEditing } from '../core/list';
import { DeleteAction, Link, Notice, Pending, TextArea, TextField, opt, useLoad, usePaged, useSubmit } from '../core/ui';
import { useStrings } from '../i18n';

const PARTNER_FIELDS = ['name', 'partnerNumber', 'notes'] as const;

interface PartnerFormProps {
  /** The partner to edit; absent to create one. */
  partnerId?: string;
  onDone: (p: Partner) => void;
  onCancel: () => void;
}

/** PartnerForm creates or edits a partner; edits read the partner first and send If-Match with its ETag. */
export function PartnerForm({ partnerId, onDone, onCancel }: PartnerFormProps) {
  const strings = useStrings();
  const t = strings.partners;
  const { api } = useSignedIn();
  const form = useFormValues(
    { name: '', partnerNumber: '', notes: '' },
    partnerId
      ? {
          load: () => callTagged(api.GET('/partners/{partnerId}', { params: { path: { partnerId } } })),
          values: (p: Partner) => ({ name: p.name, partnerNumber: p.partnerNumber, notes: p.notes ?? '' }),
        }
      : undefined,
    [api, partnerId],
  );
  const submit = useSubmit(PARTNER_FIELDS);
  if (form.pending) return form.pending;

  const { values, set, etag } = form;
  const save = async () => {
    const body: PartnerInput = { name: values.name.trim(), partnerNumber: values.partnerNumber.trim(), notes: opt(values.notes) };
    const saved = partnerId
      ? await call(api.PUT('/partners/{partnerId}', { params: { path: { partnerId }, header: { 'If-Match': etag } }, body }))
      : await call(api.POST('/partners', { body }));
    onDone(saved);
  };
  const fe = submit.fieldErrors;
  return (
    <FormCard submit={submit} heading={partnerId ? t.editHeading(values.name) : t.newHeading} onSubmit={save} onCancel={onCancel}>
      <TextField label={strings.common.name} name="name" required maxLength={255} value={values.name} onChange={set('name')} error={fe.name} autoFocus />
      <TextField label={t.number} name="partnerNumber" required maxLength={64} value={values.partnerNumber} onChange={set('partnerNumber')} error={fe.partnerNumber} />
      <TextArea label={strings.common.notes} name="notes" maxLength={1024} value={values.notes} onChange={set('notes')} error={fe.notes} />
    </FormCard>
  );
}

/**
 * Partners lists the partners the caller may see (search, paging), or with partner-id shows one.
 * Admins (managePartners) create, edit (If-Match) and delete; everyone else reads.
 */
export function Partners({ partnerId }: { partnerId?: string }) {
  return partnerId ? <PartnerView key={partnerId} partnerId={partnerId} /> : <PartnerList />;
}

function PartnerList() {
  const strings = useStrings();
  const t = strings.partners;
  const { api, me } = useSignedIn();
  const [query, setQuery] = useState('');
  const canManage = me.permissions.managePartners;
  const paged = usePaged<Partner>((cursor) => call(api.GET('/partners', { params: { query: { q: query || undefined, cursor } } })), [api, query]);
  const editor = useEditing({ created: t.created, reload: paged.reload });

  return (
    <section aria-labelledby="cp-partners-h">
      <h2 id="cp-partners-h">{t.heading}</h2>
      <div className="cp-toolbar">
        <SearchBar label={t.searchLabel} onSearch={setQuery} />
        {canManage && !editor.open && (
          <button type="button" className="cp-button cp-primary" onClick={() => editor.start('new')}>
            {t.new}
          </button>
        )}
      </div>
      {editor.notice && <Notice>{editor.notice}</Notice>}
      {canManage && editor.open && <PartnerForm key={editor.id ?? 'new'} partnerId={editor.id} onCancel={editor.cancel} onDone={editor.done} />}
      <PagedTable
        paged={paged}
        label={t.tableLabel}
        empty={t.empty}
        rowKey={(p) => p.id}
        columns={[
          { header: strings.common.name, cell: (p) => <Link to={`#/partners/${p.id}`}>{p.name}</Link> },
          { header: t.number, cell: (p) => p.partnerNumber },
        ]}
        actions={
          canManage
            ? (p) => (
                <>
                  <button type="button" className="cp-button" aria-label={`${strings.common.edit} ${p.name}`} onClick={() => editor.start(p.id)}>
                    {strings.common.edit}
                  </button>
                  <DeleteAction
                    label={`${strings.common.delete} ${p.name}`}
                    confirm={t.deleteConfirm(p.name)}
                    onDelete={() => call(api.DELETE('/partners/{partnerId}', { params: { path: { partnerId: p.id } } }))}
                    onDeleted={() => {
                      paged.setItems((xs) => xs.filter((x) => x.id !== p.id));
                      editor.setNotice(t.deleted(p.name));
                    }}
                  />
                </>
              )
            : undefined
        }
      />
    </section>
  );
}

function PartnerView({ partnerId }: { partnerId: string }) {
  const strings = useStrings();
  const t = strings.partners;
  const { api, me, navigate } = useSignedIn();
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [deleted, setDeleted] = useState<string>();
  const partner = useLoad(() => call(api.GET('/partners/{partnerId}', { params: { path: { partnerId } } })), [api, partnerId]);
  const perms = me.permissions;
  const back = (
    <p>
      <Link to="#/partners">{t.back}</Link>
    </p>
  );
  if (deleted !== undefined) {
    return (
      <section aria-labelledby="cp-partner-h">
        <h2 id="cp-partner-h">{t.heading}</h2>
        <Notice>{t.deleted(deleted)}</Notice>
        {back}
      </section>
    );
  }
  const p = partner.data;
  if (!p) return <Pending load={partner} back={{ to: '#/partners', label: t.back }} />;
  return (
    <section aria-labelledby="cp-partner-h">
      <h2 id="cp-partner-h">{p.name}</h2>
      {back}
      {notice && <Notice>{notice}</Notice>}
      {editing ? (
        <PartnerForm
          partnerId={p.id}
          onCancel={() => setEditing(false)}
          onDone={(saved) => {
            partner.set(saved);
            setEditing(false);
            setNotice(strings.common.saved);
          }}
        />
      ) : (
        <div className="cp-card">
          <h3>{t.details}</h3>
          <dl>
            <dt>{t.number}</dt>
            <dd>{p.partnerNumber}</dd>
            {perms.viewNotes && p.notes !== undefined && (
              <>
                <dt>{strings.common.notes}</dt>
                <dd>{p.notes || strings.common.none}</dd>
              </>
            )}
          </dl>
          {perms.managePartners && (
            <div className="cp-toolbar">
              <button
                type="button"
                className="cp-button"
                onClick={() => {
                  setNotice(undefined);
                  setEditing(true);
                }}
              >
                {strings.common.edit}
              </button>
              <DeleteAction
                label={t.deletePartner}
                confirm={t.deleteConfirm(p.name)}
                onDelete={() => call(api.DELETE('/partners/{partnerId}', { params: { path: { partnerId: p.id } } }))}
                onDeleted={() => {
                  setDeleted(p.name);
                  navigate('#/partners');
                }}
              />
            </div>
          )}
        </div>
      )}
    </section>
  );
}
