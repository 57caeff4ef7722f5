import { useState, type FormEvent } from 'react';
import { call } from '../api/client';
import type { TicketComment, TicketDetail, TicketStatus } from '../api/types';
import { useSignedIn } from '../core/context';
import { CheckField, Empty, Link, LoadedName, NotFoundScreen, Notice, Pending, SelectField, TextArea, useLoad, useSubmit } from '../core/ui';
import { useStrings, useFormatDate } from '../i18n';

const STATUSES: TicketStatus[] = ['open', 'in_progress', 'waiting_for_customer', 'resolved', 'closed'];

/** TicketView shows a ticket and its comments; staff see internal ones and change any status. */
export function TicketView({ ticketId }: { ticketId?: string }) {
  const strings = useStrings();
  const t = strings.ticket;
  const formatDate = useFormatDate();
  const { api, staff } = useSignedIn();
  const key = ticketId ?? '';
  const ticket = useLoad(() => call(api.GET('/tickets/{key}', { params: { path: { key } } })), [api, key]);
  const [older, setOlder] = useState<{ items: TicketComment[]; cursor?: string } | null>(null);
  const [notice, setNotice] = useState<string>();
  const more = useSubmit([]);
  const back = { to: '#/tickets', label: strings.tickets.back };
  if (!ticketId) return <NotFoundScreen back={back} />;
  const tk = ticket.data;
  if (!tk) return <Pending load={ticket} back={back} />;
  const extra = older?.items ?? [];
  const cursor = older ? older.cursor : tk.commentsNextCursor;
  // Customers' answers never carry internal comments; filtering again keeps them hidden even if one slipped through.
  const comments = [...tk.comments, ...extra].filter((c) => staff || !c.internal);
  const loadMore = () =>
    void more.run(async () => {
      const page = await call(api.GET('/tickets/{key}/comments', { params: { path: { key }, query: { cursor } } }));
      setOlder({ items: [...extra, ...page.items], cursor: page.nextCursor });
    });
  const update = (next: Partial<TicketDetail>) => ticket.set({ ...tk, ...next });
  return (
    <article aria-labelledby="cp-ticket-h">
      <h2 id="cp-ticket-h">{t.heading(tk.key, tk.summary)}</h2>
      {notice && <Notice>{notice}</Notice>}
      {tk.stale && <p className="cp-muted">{strings.tickets.stale}</p>}
      <div className="cp-card">
        <h3>{t.details}</h3>
        <dl>
          <dt>{strings.tickets.status}</dt>
          <dd>{strings.tickets.statusName(tk.status)}</dd>
          <dt>{strings.tickets.priority}</dt>
          <dd>{strings.tickets.priorityName(tk.priority)}</dd>
          {tk.typeName && (
            <>
              <dt>{strings.tickets.type}</dt>
              <dd>{tk.typeName}</dd>
            </>
          )}
          <dt>{t.project}</dt>
          <dd>
            <Link to={`#/projects/${tk.projectId}`}>
              <LoadedName
                id={tk.projectId}
                read={(projectId) => call(api.GET('/projects/{projectId}', { params: { path: { projectId } } }))}
                loading={t.projectLoading}
                fallback={t.projectUnnamed(tk.projectId)}
              />
            </Link>
          </dd>
          <dt>{strings.tickets.reporter}</dt>
          <dd>{tk.reporter.username}</dd>
          {tk.participants.length > 0 && (
            <>
              <dt>{t.participants}</dt>
              <dd>{tk.participants.map((p) => p.username).join(', ')}</dd>
            </>
          )}
          <dt>{strings.common.created}</dt>
          <dd>{formatDate(tk.createdAt)}</dd>
          <dt>{strings.common.updated}</dt>
          <dd>{formatDate(tk.updatedAt)}</dd>
        </dl>
        {tk.description && <p className="cp-comment-body">{tk.description}</p>}
      </div>
      <StatusControl
        ticket={tk}
        onChanged={(s) => {
          update({ status: s });
          setNotice(t.statusChanged(strings.tickets.statusName(s)));
        }}
      />
      <h3>{t.comments}</h3>
      {comments.length === 0 && <Empty>{t.noComments}</Empty>}
      <ol className="cp-comments" aria-label={t.comments} style={{ listStyle: 'none', padding: 0 }}>
        {comments.map((c) => (
          <li key={c.id} className={`cp-comment${c.internal ? ' cp-internal' : ''}`}>
            <p className="cp-comment-meta">
              {t.by(c.author.username, formatDate(c.createdAt))}
              {c.internal && <span className="cp-badge"> {t.internalBadge}</span>}
            </p>
            <p className="cp-comment-body">{c.body}</p>
          </li>
        ))}
      </ol>
      {more.summary}
      {cursor && (
        <button type="button" className="cp-button" disabled={more.busy} onClick={loadMore}>
          {t.olderComments}
        </button>
      )}
      <CommentForm
        ticketKey={tk.key}
        onAdded={(c) => {
          if (cursor) return setNotice(t.commentAdded);
          update({ comments: [...tk.comments, c] });
          setNotice(t.commentAdded);
        }}
      />
    </article>
  );
}

function StatusControl({ ticket, onChanged }: { ticket: TicketDetail; onChanged: (s: TicketStatus) => void }) {
  const strings = useStrings();
  const t = strings.ticket;
  const { api, staff } = useSignedIn();
  const [next, setNext] = useState<TicketStatus>(ticket.status);
  const submit = useSubmit(['status']);
  const change = (status: TicketStatus) =>
    void submit.run(async () => {
      const r = await call(api.PUT('/tickets/{key}/status', { params: { path: { key: ticket.key } }, body: { status } }));
      onChanged(r.status);
    });
  if (staff) {
    return (
      <form
        ref={submit.formRef}
        className="cp-toolbar"
        aria-label={t.changeStatus}
        onSubmit={(e) => {
          e.preventDefault();
          change(next);
        }}
      >
        {submit.summary}
        <SelectField label={t.newStatus} value={next} onChange={(e) => setNext(e.target.value as TicketStatus)} error={submit.fieldErrors.status}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {strings.tickets.statusName(s)}
            </option>
          ))}
        </SelectField>
        <button type="submit" className="cp-button" disabled={submit.busy || next === ticket.status}>
          {t.setStatus}
        </button>
      </form>
    );
  }
  // Customers and partners may close what they see and reopen what is resolved or closed.
  const reopenable = ticket.status === 'resolved' || ticket.status === 'closed';
  return (
    <form ref={submit.formRef} className="cp-toolbar" aria-label={t.changeStatus} onSubmit={(e) => e.preventDefault()}>
      {submit.summary}
      {ticket.status !== 'closed' && (
        <button type="button" className="cp-button" disabled={submit.busy} onClick={() => change('closed')}>
          {t.close}
        </button>
      )}
      {reopenable && (
        <button type="button" className="cp-button" disabled={submit.busy} onClick={() => change('open')}>
          {t.reopen}
        </button>
      )}
    </form>
  );
}

function CommentForm({ ticketKey, onAdded }: { ticketKey: string; onAdded: (c: TicketComment) => void }) {
  const t = useStrings().ticket;
  const { api, staff } = useSignedIn();
  const [body, setBody] = useState('');
  const [internal, setInternal] = useState(false);
  const submit = useSubmit(['body', 'internal']);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(async () => {
      const c = await call(
        api.POST('/tickets/{key}/comments', { params: { path: { key: ticketKey } }, body: { body, internal: staff && internal } }),
      );
      setBody('');
      setInternal(false);
      onAdded(c);
    });
  };
  return (
    <form ref={submit.formRef} onSubmit={onSubmit} noValidate className="cp-card" aria-label={t.addComment}>
      {submit.summary}
      <TextArea label={t.commentLabel} required value={body} onChange={(e) => setBody(e.target.value)} error={submit.fieldErrors.body} />
      {staff && <CheckField label={t.internalLabel} checked={internal} onChange={(e) => setInternal(e.target.checked)} />}
      <button type="submit" className="cp-button cp-primary" disabled={submit.busy || !body.trim()}>
        {t.addComment}
      </button>
    </form>
  );
}
