import type { components } from './schema';

type S = components['schemas'];
export type Problem = S['Problem'];
export type Me = S['Me'];
export type Role = S['Role'];
export type Customer = S['Customer'];
export type CustomerInput = S['CustomerInput'];
export type Partner = S['Partner'];
export type Project = S['Project'];
export type ProjectInput = S['ProjectInput'];
export type User = S['User'];
export type PortalUser = S['PortalUser'];
export type Invitation = S['Invitation'];
export type ProductVersion = S['ProductVersion'];
export type ProductVersionInput = S['ProductVersionInput'];
export type SubscriptionLevel = S['SubscriptionLevel'];
export type SubscriptionLevelInput = S['SubscriptionLevelInput'];
export type TicketType = S['TicketType'];
export type TicketTypeInput = S['TicketTypeInput'];
export type Subscription = S['Subscription'];
export type SubscriptionInput = S['SubscriptionInput'];
export type Entitlement = S['Entitlement'];
export type Ticket = S['Ticket'];
export type TicketDetail = S['TicketDetail'];
export type TicketInput = S['TicketInput'];
export type TicketStatus = S['TicketStatus'];
export type TicketComment = S['TicketComment'];
export type Priority = S['Priority'];
export type TicketingSettings = S['TicketingSettings'];
export type TicketingSettingsInput = S['TicketingSettingsInput'];
export type TicketingDiagnosis = S['TicketingDiagnosis'];

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}
export type PartnerInput = S['PartnerInput'];
export type PortalUserDetail = S['PortalUserDetail'];
export type Renewal = S['Renewal'];
export type AuditEvent = S['AuditEvent'];
