import { describe, expect, it } from 'vitest';
import { hasAnyScope, SCOPE_PATTERN, SCOPES } from '../../src/domain/scopes.js';
import { eachCase } from './case-table.js';

describe('hasAnyScope', () => {
  eachCase([
    { spec: 'grants CREATE by bulk ALL', granted: ['ZohoCRM.bulk.ALL'], wanted: ['ZohoCRM.bulk.CREATE'], expected: true },
    { spec: 'grants READ by bulk ALL', granted: ['ZohoCRM.bulk.ALL'], wanted: ['ZohoCRM.bulk.READ'], expected: true },
    { spec: 'grants a scope by itself', granted: ['ZohoCRM.bulk.CREATE'], wanted: ['ZohoCRM.bulk.CREATE'], expected: true },
    { spec: 'grants ALL by ALL', granted: ['ZohoCRM.bulk.ALL'], wanted: ['ZohoCRM.bulk.ALL'], expected: true },
    { spec: 'does not grant CREATE by READ', granted: ['ZohoCRM.bulk.READ'], wanted: ['ZohoCRM.bulk.CREATE'], expected: false },
    { spec: 'does not grant ALL by CREATE', granted: ['ZohoCRM.bulk.CREATE'], wanted: ['ZohoCRM.bulk.ALL'], expected: false },
    { spec: 'grants a module operation by modules ALL', granted: ['ZohoCRM.modules.ALL'], wanted: ['ZohoCRM.modules.leads.CREATE'], expected: true },
    { spec: 'grants a module operation by that module ALL', granted: ['ZohoCRM.modules.leads.ALL'], wanted: ['ZohoCRM.modules.leads.CREATE'], expected: true },
    { spec: 'does not grant one module by another module ALL', granted: ['ZohoCRM.modules.contacts.ALL'], wanted: ['ZohoCRM.modules.leads.CREATE'], expected: false },
    { spec: 'does not grant a module by a longer module name', granted: ['ZohoCRM.modules.leadsx.ALL'], wanted: ['ZohoCRM.modules.leads.CREATE'], expected: false },
    { spec: 'does not grant module CREATE by module READ', granted: ['ZohoCRM.modules.leads.READ'], wanted: ['ZohoCRM.modules.leads.CREATE'], expected: false },
    { spec: 'ignores case in every part', granted: ['zohocrm.BULK.all'], wanted: ['ZohoCRM.bulk.CREATE'], expected: true },
    { spec: 'ignores case of the module name', granted: ['ZOHOCRM.MODULES.LEADS.CREATE'], wanted: ['ZohoCRM.modules.leads.CREATE'], expected: true },
    { spec: 'does not let ZohoFiles.files.ALL grant ZohoCRM.bulk.READ', granted: ['ZohoFiles.files.ALL'], wanted: ['ZohoCRM.bulk.READ'], expected: false },
    { spec: 'does not let bulk ALL grant module CREATE', granted: ['ZohoCRM.bulk.ALL'], wanted: ['ZohoCRM.modules.leads.CREATE'], expected: false },
    { spec: 'does not let modules ALL grant bulk CREATE', granted: ['ZohoCRM.modules.ALL'], wanted: ['ZohoCRM.bulk.CREATE'], expected: false },
    { spec: 'does not let settings ALL grant bulk CREATE', granted: ['ZohoCRM.settings.ALL'], wanted: ['ZohoCRM.bulk.CREATE'], expected: false },
    { spec: 'does not let a prefix of a service name grant it', granted: ['ZohoCRM.bulkx.ALL'], wanted: ['ZohoCRM.bulk.READ'], expected: false },
    { spec: 'grants when any one granted scope covers', granted: ['ZohoCRM.users.ALL', 'ZohoCRM.bulk.READ'], wanted: ['ZohoCRM.bulk.READ'], expected: true },
    { spec: 'grants when it covers any one acceptable scope', granted: ['ZohoCRM.bulk.READ'], wanted: ['ZohoCRM.bulk.CREATE', 'ZohoCRM.bulk.READ'], expected: true },
    { spec: 'grants nothing without granted scopes', granted: [], wanted: ['ZohoCRM.bulk.READ'], expected: false },
    { spec: 'grants nothing without acceptable scopes', granted: ['ZohoCRM.bulk.ALL'], wanted: [], expected: false },
  ], ({ granted, wanted, expected }) => {
    expect(hasAnyScope(granted, wanted)).toBe(expected);
  });
});

describe('SCOPES per endpoint', () => {
  eachCase([
    { spec: 'lets ZohoFiles.files.ALL upload', granted: ['ZohoFiles.files.ALL'], wanted: SCOPES.upload, expected: true },
    { spec: 'lets bulk ALL upload', granted: ['ZohoCRM.bulk.ALL'], wanted: SCOPES.upload, expected: true },
    { spec: 'does not let bulk CREATE upload', granted: ['ZohoCRM.bulk.CREATE'], wanted: SCOPES.upload, expected: false },
    { spec: 'lets bulk CREATE create a job', granted: ['ZohoCRM.bulk.CREATE'], wanted: SCOPES.createJob, expected: true },
    { spec: 'lets bulk ALL create a job', granted: ['ZohoCRM.bulk.ALL'], wanted: SCOPES.createJob, expected: true },
    { spec: 'does not let bulk READ create a job', granted: ['ZohoCRM.bulk.READ'], wanted: SCOPES.createJob, expected: false },
    { spec: 'lets bulk READ read a job', granted: ['ZohoCRM.bulk.READ'], wanted: SCOPES.readJob, expected: true },
    { spec: 'lets bulk CREATE read a job', granted: ['ZohoCRM.bulk.CREATE'], wanted: SCOPES.readJob, expected: true },
    { spec: 'does not let ZohoFiles.files.ALL read a job', granted: ['ZohoFiles.files.ALL'], wanted: SCOPES.readJob, expected: false },
    { spec: 'lets modules ALL write Leads', granted: ['ZohoCRM.modules.ALL'], wanted: SCOPES.moduleCreate('Leads', false), expected: true },
    { spec: 'lets leads CREATE write Leads', granted: ['ZohoCRM.modules.leads.CREATE'], wanted: SCOPES.moduleCreate('Leads', false), expected: true },
    { spec: 'lets custom ALL write a custom module', granted: ['ZohoCRM.modules.custom.ALL'], wanted: SCOPES.moduleCreate('Projects_X', true), expected: true },
    { spec: 'lets the custom module own scope write it', granted: ['ZohoCRM.modules.projects_x.CREATE'], wanted: SCOPES.moduleCreate('Projects_X', true), expected: true },
    { spec: 'does not let custom ALL write Leads', granted: ['ZohoCRM.modules.custom.ALL'], wanted: SCOPES.moduleCreate('Leads', false), expected: false },
  ], ({ granted, wanted, expected }) => {
    expect(hasAnyScope(granted, wanted)).toBe(expected);
  });

  it('names the module scopes of a custom module in lower case', () => {
    expect(SCOPES.moduleCreate('Projects_X', true)).toEqual(['ZohoCRM.modules.custom.CREATE', 'ZohoCRM.modules.projects_x.CREATE']);
  });
});

describe('SCOPE_PATTERN', () => {
  eachCase([
    { scope: 'ZohoCRM.bulk.ALL', expected: true },
    { scope: 'ZohoCRM.modules.leads.CREATE', expected: true },
    { scope: 'ZohoFiles.files.ALL', expected: true },
    { scope: 'ZohoCRM', expected: false },
    { scope: 'ZohoCRM..ALL', expected: false },
    { scope: 'ZohoCRM.bulk.', expected: false },
    { scope: 'Zoho CRM.bulk.ALL', expected: false },
    { scope: 'ZohoCRM.bulk.ALL,ZohoFiles.files.ALL', expected: false },
  ], (r) => `says ${r.expected} for "${r.scope}"`, ({ scope, expected }) => {
    expect(SCOPE_PATTERN.test(scope)).toBe(expected);
  });
});
