// The one entry other sites load: <script type="module" src="https://portal.example.com/ui/widgets.js">.
// Importing it registers every custom element; registering twice is harmless.
import { defineWidget } from './core/element';
import { AdminCatalogue } from './widgets/AdminCatalogue';
import { AdminTicketing } from './widgets/AdminTicketing';
import { Audit } from './widgets/Audit';
import { CustomerView } from './widgets/Customer';
import { Customers } from './widgets/Customers';
import { OpenTicket } from './widgets/OpenTicket';
import { Partners } from './widgets/Partners';
import { Portal } from './widgets/Portal';
import { ProjectView } from './widgets/Project';
import { SubscriptionRequest } from './widgets/SubscriptionRequest';
import { TicketView } from './widgets/Ticket';
import { Tickets } from './widgets/Tickets';
import { Users } from './widgets/Users';

export function defineAll(): void {
  defineWidget('cp-portal', Portal, { anonymous: true });
  defineWidget('cp-customers', Customers);
  defineWidget('cp-customer', CustomerView, { attributes: ['customer-id'] });
  defineWidget('cp-project', ProjectView, { attributes: ['project-id'] });
  defineWidget('cp-tickets', Tickets, { attributes: ['project-id'] });
  defineWidget('cp-ticket', TicketView, { attributes: ['ticket-id'] });
  defineWidget('cp-open-ticket', OpenTicket, { attributes: ['project-id'] });
  defineWidget('cp-subscription-request', SubscriptionRequest, { attributes: ['project-id'] });
  defineWidget('cp-admin-ticketing', AdminTicketing);
  defineWidget('cp-admin-catalogue', AdminCatalogue);
  defineWidget('cp-users', Users);
  defineWidget('cp-partners', Partners, { attributes: ['partner-id'] });
  defineWidget('cp-audit', Audit, { attributes: ['resource-type', 'resource-id'] });
}

defineAll();
