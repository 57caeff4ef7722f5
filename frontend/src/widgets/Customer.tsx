import { useState } from 'react';
import { call } from '../api/client';
import type { Project, ProjectInput } from '../api/types';
import { useSignedIn } from '../core/context';
import { FormCard, useFormValues } from '../core/form';
import { PagedTable } from '../core/list';
import { DeleteAction, Link, NotFoundScreen, Notice, Pending, SelectField, TextArea, TextField, opt, useLoad, usePaged, useSubmit } from '../core/ui';
import { useStrings } from '../i18n';
import { CustomerForm } from './Customers';

const PROJECT_FIELDS = ['name', 'description', 'ticketVisibility', 'jsmOrganizationId', 'contactName', 'contactPhone', 'contactEmail', 'notes'] as const;
type ProjectValues = Record<(typeof PROJECT_FIELDS)[number], string>;

export function projectValues(p?: Project): ProjectValues {
  return {
    name: p?.name ?? '',
    description: p?.description ?? '',
    ticketVisibility: p?.ticketVisibility ?? 'project',
    jsmOrganizationId: p?.jsmOrganizationId ?? '',
    contactName: p?.contactName ?? '',
    contactPhone: p?.contactPhone ?? '',
    contactEmail: p?.contactEmail ?? '',
    notes: p?.notes ?? '',
  };
}

interface ProjectFormProps {
  customerId: string;
  project?: Project;
  etag?: string;
  onDone: (p: Project) => void;
  onCancel: () => void;
}

/** ProjectForm creates a project for a customer or edits one (If-Match with the ETag read). */
export function ProjectForm({ customerId, project, etag, onDone, onCancel }: ProjectFormProps) {
  const strings = useStrings();
  const t = strings.customer;
  const { api } = useSignedIn();
  const { values: v, set } = useFormValues(projectValues(project));
  const submit = useSubmit(PROJECT_FIELDS);
  const fe = submit.fieldErrors;
  const save = async () => {
    const body: ProjectInput = {
      customerId,
      name: v.name.trim(),
      description: opt(v.description),
      ticketVisibility: v.ticketVisibility as ProjectInput['ticketVisibility'],
      jsmOrganizationId: opt(v.jsmOrganizationId),
      contactName: opt(v.contactName),
      contactPhone: opt(v.contactPhone),
      contactEmail: opt(v.contactEmail),
      notes: opt(v.notes),
    };
    const saved = project
      ? await call(api.PUT('/projects/{projectId}', { params: { path: { projectId: project.id }, header: { 'If-Match': etag } }, body }))
      : await call(api.POST('/projects', { body }));
    onDone(saved);
  };
  return (
    <FormCard submit={submit} heading={project ? strings.project.editHeading(project.name) : t.newProjectHeading} onSubmit={save} onCancel={onCancel}>
      <TextField label={strings.common.name} required value={v.name} onChange={set('name')} error={fe.name} autoFocus />
      <TextArea label={strings.common.description} value={v.description} onChange={set('description')} error={fe.description} />
      <SelectField label={strings.project.ticketVisibility} value={v.ticketVisibility} onChange={set('ticketVisibility')} error={fe.ticketVisibility}>
        {['project', 'own'].map((o) => (
          <option key={o} value={o}>
            {strings.project.visibility[o]}
          </option>
        ))}
      </SelectField>
      <TextField label={strings.project.jsmOrganizationId} inputMode="numeric" value={v.jsmOrganizationId} onChange={set('jsmOrganizationId')} error={fe.jsmOrganizationId} />
      <TextField label={strings.common.contactName} value={v.contactName} onChange={set('contactName')} error={fe.contactName} />
      <TextField label={strings.common.contactPhone} type="tel" value={v.contactPhone} onChange={set('contactPhone')} error={fe.contactPhone} />
      <TextField label={strings.common.contactEmail} type="email" value={v.contactEmail} onChange={set('contactEmail')} error={fe.contactEmail} />
      <TextArea label={strings.common.notes} value={v.notes} onChange={set('notes')} error={fe.notes} />
    </FormCard>
  );
}

/** CustomerView shows one customer and the projects of it the caller may see. */
export function CustomerView({ customerId }: { customerId?: string }) {
  const strings = useStrings();
  const t = strings.customer;
  const { api, me, navigate } = useSignedIn();
  const [mode, setMode] = useState<'view' | 'edit' | 'newProject'>('view');
  const [notice, setNotice] = useState<string>();
  const [deleted, setDeleted] = useState(false);
  const customer = useLoad(
    () => call(api.GET('/customers/{customerId}', { params: { path: { customerId: customerId ?? '' } } })),
    [api, customerId],
  );
  const projects = usePaged<Project>(
    (cursor) => call(api.GET('/customers/{customerId}/projects', { params: { path: { customerId: customerId ?? '' }, query: { cursor } } })),
    [api, customerId],
  );
  const back = { to: '#/customers', label: strings.customers.back };
  if (!customerId) return <NotFoundScreen back={back} />;
  if (deleted) {
    return (
      <section aria-labelledby="cp-customer-h">
        <h2 id="cp-customer-h">{strings.customers.heading}</h2>
        <Notice>{strings.customers.deleted}</Notice>
        <p>
          <Link to={back.to}>{back.label}</Link>
        </p>
      </section>
    );
  }
  const c = customer.data;
  if (!c) return <Pending load={customer} back={back} />;
  const p = me.permissions;
  return (
    <section aria-labelledby="cp-customer-h">
      <h2 id="cp-customer-h">{t.heading(c.name)}</h2>
      {notice && <Notice>{notice}</Notice>}
      {mode === 'edit' ? (
        <CustomerForm
          customerId={c.id}
          onCancel={() => setMode('view')}
          onDone={(saved) => {
            customer.set(saved);
            setMode('view');
            setNotice(strings.common.saved);
          }}
        />
      ) : (
        <div className="cp-card">
          <h3>{t.details}</h3>
          <dl>
            <dt>{strings.customers.number}</dt>
            <dd>{c.customerNumber}</dd>
            <dt>{strings.common.contactName}</dt>
            <dd>{c.contactName || strings.common.none}</dd>
            <dt>{strings.common.contactPhone}</dt>
            <dd>{c.contactPhone || strings.common.none}</dd>
            <dt>{strings.common.contactEmail}</dt>
            <dd>{c.contactEmail ? <a href={`mailto:${c.contactEmail}`}>{c.contactEmail}</a> : strings.common.none}</dd>
            {p.viewNotes && c.notes !== undefined && (
              <>
                <dt>{strings.common.notes}</dt>
                <dd>{c.notes || strings.common.none}</dd>
              </>
            )}
          </dl>
          {p.manageCustomers && (
            <div className="cp-toolbar">
              <button type="button" className="cp-button" onClick={() => setMode('edit')}>
                {strings.common.edit}
              </button>
              <DeleteAction
                label={strings.customers.deleteCustomer}
                confirm={strings.customers.deleteConfirm(c.name)}
                onDelete={() => call(api.DELETE('/customers/{customerId}', { params: { path: { customerId: c.id } } }))}
                onDeleted={() => {
                  setDeleted(true);
                  navigate('#/customers');
                }}
              />
            </div>
          )}
        </div>
      )}
      <h3>{t.projects}</h3>
      {p.manageProjects && mode !== 'newProject' && (
        <button type="button" className="cp-button cp-primary" onClick={() => setMode('newProject')}>
          {t.newProject}
        </button>
      )}
      {mode === 'newProject' && (
        <ProjectForm
          customerId={c.id}
          onCancel={() => setMode('view')}
          onDone={(proj) => {
            setMode('view');
            setNotice(t.projectCreated(proj.name));
            projects.reload();
            navigate(`#/projects/${proj.id}`);
          }}
        />
      )}
      <PagedTable
        paged={projects}
        label={t.projectsTable}
        empty={t.noProjects}
        rowKey={(pr) => pr.id}
        columns={[
          { header: strings.common.name, cell: (pr) => <Link to={`#/projects/${pr.id}`}>{pr.name}</Link> },
          { header: strings.common.description, cell: (pr) => pr.description || strings.common.none },
        ]}
      />
    </section>
  );
}
