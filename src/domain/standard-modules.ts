import type { DataType } from './metadata.js';

/** A field as declared before it has an id (seed data, schema files, `field add`). */
export interface FieldSpec {
  readonly apiName: string;
  readonly label?: string;
  readonly dataType: DataType;
  readonly length?: number;
  readonly mandatory?: boolean;
  readonly unique?: boolean;
  readonly readOnly?: boolean;
  readonly lookupModule?: string;
  readonly picklistValues?: readonly string[];
  readonly isNameField?: boolean;
}

export interface ModuleSpec {
  readonly apiName: string;
  readonly singularLabel: string;
  readonly pluralLabel: string;
  readonly fields: readonly FieldSpec[];
}

const NONE = '-None-';

// Picklist values as Zoho ships them in a new org.
const LEAD_SOURCES = [NONE, 'Advertisement', 'Cold Call', 'Employee Referral', 'External Referral', 'Online Store', 'Partner',
  'Public Relations', 'Sales Email Alias', 'Seminar Partner', 'Internal Seminar', 'Trade Show', 'Web Download', 'Web Research', 'Chat'];
const LEAD_STATUSES = [NONE, 'Attempted to Contact', 'Contact in Future', 'Contacted', 'Junk Lead', 'Lost Lead', 'Not Contacted',
  'Pre-Qualified', 'Not Qualified'];
const INDUSTRIES = [NONE, 'ASP (Application Service Provider)', 'Data/Telecom OEM', 'ERP (Enterprise Resource Planning)',
  'Government/Military', 'Large Enterprise', 'ManagementISV', 'MSP (Management Service Provider)', 'Network Equipment Enterprise',
  'Non-management ISV', 'Optical Networking', 'Service Provider', 'Small/Medium Enterprise', 'Storage Equipment',
  'Storage Service Provider', 'Systems Integrator', 'Wireless Industry', 'Communications', 'Consulting', 'Education',
  'Financial Services', 'Government', 'Manufacturing', 'Retail', 'Technology'];
const DEAL_STAGES = ['Qualification', 'Needs Analysis', 'Value Proposition', 'Id. Decision Makers', 'Perception Analysis',
  'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost', 'Closed Lost to Competition'];

const OWNER: FieldSpec = { apiName: 'Owner', label: 'Owner', dataType: 'ownerlookup' };

export const STANDARD_MODULES: readonly ModuleSpec[] = [
  {
    apiName: 'Leads',
    singularLabel: 'Lead',
    pluralLabel: 'Leads',
    fields: [
      OWNER,
      { apiName: 'First_Name', label: 'First Name', dataType: 'text', length: 40 },
      { apiName: 'Last_Name', label: 'Last Name', dataType: 'text', length: 80, mandatory: true, isNameField: true },
      { apiName: 'Email', label: 'Email', dataType: 'email', length: 100, unique: true },
      { apiName: 'Company', label: 'Company', dataType: 'text', length: 200 },
      { apiName: 'Phone', label: 'Phone', dataType: 'phone', length: 30 },
      { apiName: 'Mobile', label: 'Mobile', dataType: 'phone', length: 30 },
      { apiName: 'Website', label: 'Website', dataType: 'website', length: 255 },
      { apiName: 'Lead_Source', label: 'Lead Source', dataType: 'picklist', picklistValues: LEAD_SOURCES },
      { apiName: 'Lead_Status', label: 'Lead Status', dataType: 'picklist', picklistValues: LEAD_STATUSES },
      { apiName: 'Industry', label: 'Industry', dataType: 'picklist', picklistValues: INDUSTRIES },
      { apiName: 'Annual_Revenue', label: 'Annual Revenue', dataType: 'currency', length: 16 },
      { apiName: 'No_of_Employees', label: 'No. of Employees', dataType: 'integer', length: 9 },
      { apiName: 'Description', label: 'Description', dataType: 'textarea', length: 32000 },
    ],
  },
  {
    apiName: 'Contacts',
    singularLabel: 'Contact',
    pluralLabel: 'Contacts',
    fields: [
      OWNER,
      { apiName: 'First_Name', label: 'First Name', dataType: 'text', length: 40 },
      { apiName: 'Last_Name', label: 'Last Name', dataType: 'text', length: 80, mandatory: true, isNameField: true },
      { apiName: 'Email', label: 'Email', dataType: 'email', length: 100, unique: true },
      { apiName: 'Phone', label: 'Phone', dataType: 'phone', length: 30 },
      { apiName: 'Mobile', label: 'Mobile', dataType: 'phone', length: 30 },
      { apiName: 'Account_Name', label: 'Account Name', dataType: 'lookup', lookupModule: 'Accounts' },
      { apiName: 'Date_of_Birth', label: 'Date of Birth', dataType: 'date' },
      { apiName: 'Mailing_City', label: 'Mailing City', dataType: 'text', length: 100 },
      { apiName: 'Description', label: 'Description', dataType: 'textarea', length: 32000 },
    ],
  },
  {
    apiName: 'Accounts',
    singularLabel: 'Account',
    pluralLabel: 'Accounts',
    fields: [
      OWNER,
      { apiName: 'Account_Name', label: 'Account Name', dataType: 'text', length: 200, mandatory: true, unique: true, isNameField: true },
      { apiName: 'Phone', label: 'Phone', dataType: 'phone', length: 30 },
      { apiName: 'Website', label: 'Website', dataType: 'website', length: 255 },
      { apiName: 'Industry', label: 'Industry', dataType: 'picklist', picklistValues: INDUSTRIES },
      { apiName: 'Annual_Revenue', label: 'Annual Revenue', dataType: 'currency', length: 16 },
      { apiName: 'Description', label: 'Description', dataType: 'textarea', length: 32000 },
    ],
  },
  {
    apiName: 'Deals',
    singularLabel: 'Deal',
    pluralLabel: 'Deals',
    fields: [
      OWNER,
      { apiName: 'Deal_Name', label: 'Deal Name', dataType: 'text', length: 120, mandatory: true, isNameField: true },
      { apiName: 'Stage', label: 'Stage', dataType: 'picklist', mandatory: true, picklistValues: DEAL_STAGES },
      { apiName: 'Amount', label: 'Amount', dataType: 'currency', length: 16 },
      { apiName: 'Closing_Date', label: 'Closing Date', dataType: 'date' },
      { apiName: 'Account_Name', label: 'Account Name', dataType: 'lookup', lookupModule: 'Accounts' },
      { apiName: 'Contact_Name', label: 'Contact Name', dataType: 'lookup', lookupModule: 'Contacts' },
      { apiName: 'Description', label: 'Description', dataType: 'textarea', length: 32000 },
    ],
  },
];
