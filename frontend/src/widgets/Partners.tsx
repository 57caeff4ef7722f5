import { useEffect, useState, type FormEvent } from 'react';
import { call, callTagged } from '../api/client';
import type { Partner, PartnerInput } from '../api/types';
import { useSignedIn } from '../core/context';
import { DeleteAction, Empty, ErrorView, Link, Loading, Notice, PagedFooter, TextArea, TextField, opt, useLoad, usePaged, useSubmit } from '../core/ui';
import { strings } from '../strings';

const t = strings.partners;
const PARTNER_FIELDS = ['name', 'partnerNumber', 'notes'] as const;

interface PartnerFormProps {
  /** The partner to edit; absent to create one. */
  partnerId?: string;
  onDone: (p: Partner) => void;
  onCancel: () => void;
}

/** PartnerForm creates or edits a partner; edits read the partner first and send If-Match with its ETag. */
export function PartnerForm({ partnerId, onDone, onCancel }: PartnerFormProps) {
  const { api } = useSignedIn();
  const [values, setValues] = useState<Record<(typeof PARTNER_FIELDS)[number], string>>({ name: '', partnerNumber: '', notes: '' });
  const [etag, setEtag] = useState<string>();
  const [loaded, setLoaded] = useState(!partnerId);
  const [loadError, setLoadError] = useState<unknown>();
  const submit = useSubmit(PARTNER_FIELDS);

  useEffect(() => {
    if (!partnerId) return;
    callTagged(api.GET('/partners/{partnerId}', { params: { path: { partnerId } } })).then(({ data, etag }) => {
      setValues({ name: data.name, partnerNumber: data.partnerNumber, notes: data.notes ?? '' });
      setEtag(etag);
      setLoaded(true);
    }, setLoadError);
  }, [api, partnerId]);

  if (loadError !== undefined) return <ErrorView error={loadError} />;
  if (!loaded) return <Loading />;

  const set = (k: keyof typeof values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [k]: e.target.value }));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      const body: PartnerInput = { name: values.name.trim(), partnerNumber: values.partnerNumber.trim(), notes: opt(values.notes) };
      const saved = partnerId
        ? await call(api.PUT('/partners/{partnerId}', { params: { path: { partnerId }, header: { 'If-Match': etag } }, body }))
        : await call(api.POST('/partners', { body }));
      onDone(saved);
    });
  };
  const fe = submit.fieldErrors;
  const heading = partnerId ? t.editHeading(values.name) : t.newHeading;
  return (
    <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-label={heading}>
      <h3>{heading}</h3>
      {submit.summary}
      <TextField label={strings.common.name} name="name" required maxLength={255} value={values.name} onChange={set('name')} error={fe.name} autoFocus />
      <TextField label={t.number} name="partnerNumber" required maxLength={64} value={values.partnerNumber} onChange={set('partnerNumber')} error={fe.partnerNumber} />
      <TextArea label={strings.common.notes} name="notes" maxLength={1024} value={values.notes} onChange={set('notes')} error={fe.notes} />
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

/**
 * Partners lists the partners the caller may see (search, paging), or with partner-id shows one.
 * Admins (managePartners) create, edit (If-Match) and delete; everyone else reads.
 */
export function Partners({ partnerId }: { partnerId?: string }) {
  return partnerId ? <PartnerView key={partnerId} partnerId={partnerId} /> : <PartnerList />;
}

function PartnerList() {
  const { api, me } = useSignedIn();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  const [notice, setNotice] = useState<string>();
  const canManage = me.permissions.managePartners;
  const paged = usePaged<Partner>((cursor) => call(api.GET('/partners', { params: { query: { q: query || undefined, cursor } } })), [api, query]);

  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    setQuery(q.trim());
  };

  return (
    <section aria-labelledby="cp-partners-h">
      <h2 id="cp-partners-h">{t.heading}</h2>
      <div className="cp-toolbar">
        <form role="search" onSubmit={onSearch} className="cp-toolbar">
          <TextField label={t.searchLabel} type="search" value={q} onChange={(e) => setQ(e.target.value)} />
          <button type="submit" className="cp-button">
            {strings.common.search}
          </button>
        </form>
        {canManage && editing === null && (
          <button
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
        <PartnerForm
          partnerId={editing === 'new' ? undefined : editing}
          onCancel={() => setEditing(null)}
          onDone={(p) => {
            setNotice(editing === 'new' ? t.created(p.name) : strings.common.saved);
            setEditing(null);
            paged.reload();
          }}
        />
      )}
      {!paged.loading && paged.error === undefined && paged.items.length === 0 && <Empty>{t.empty}</Empty>}
      {paged.items.length > 0 && (
        <div className="cp-table-wrap">
          <table aria-label={t.tableLabel}>
            <thead>
              <tr>
                <th scope="col">{strings.common.name}</th>
                <th scope="col">{t.number}</th>
                {canManage && <th scope="col">{strings.common.actions}</th>}
              </tr>
            </thead>
            <tbody>
              {paged.items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link to={`#/partners/${p.id}`}>{p.name}</Link>
                  </td>
                  <td>{p.partnerNumber}</td>
                  {canManage && (
                    <td>
                      <div className="cp-toolbar">
                        <button
                          type="button"
                          className="cp-button"
                          aria-label={`${strings.common.edit} ${p.name}`}
                          onClick={() => {
                            setNotice(undefined);
                            setEditing(p.id);
                          }}
                        >
                          {strings.common.edit}
                        </button>
                        <DeleteAction
                          label={`${strings.common.delete} ${p.name}`}
                          confirm={t.deleteConfirm(p.name)}
                          onDelete={() => call(api.DELETE('/partners/{partnerId}', { params: { path: { partnerId: p.id } } }))}
                          onDeleted={() => {
                            paged.setItems((xs) => xs.filter((x) => x.id !== p.id));
                            setNotice(t.deleted(p.name));
                          }}
                        />
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PagedFooter paged={paged} />
    </section>
  );
}

function PartnerView({ partnerId }: { partnerId: string }) {
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
  if (partner.error !== undefined) return <ErrorView error={partner.error} onRetry={partner.reload} />;
  const p = partner.data;
  if (!p) return <Loading />;
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
