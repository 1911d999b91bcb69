import { runConformance } from '../../src/storage/conformance/index.ts';
import { tempSqliteFactory } from './temp-db.ts';

runConformance('sqlite', tempSqliteFactory('conf'));
// The same contract holds without group commit (one transaction per write).
runConformance('sqlite autocommit', tempSqliteFactory('conf-ac', { groupCommit: false }));
