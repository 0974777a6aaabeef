import { CreateUsers1764000000000 } from './1764000000000-CreateUsers';
import { CreateGroups1764000001000 } from './1764000001000-CreateGroups';
import { CreateChat1764000002000 } from './1764000002000-CreateChat';
import { ConversationListIndexes1764000003000 } from './1764000003000-ConversationListIndexes';
import { ConversationActiveSecond1764000004000 } from './1764000004000-ConversationActiveSecond';

/** Every migration, oldest first. `npm run migration:generate` output must be added here. */
export const migrations = [
  CreateUsers1764000000000,
  CreateGroups1764000001000,
  CreateChat1764000002000,
  ConversationListIndexes1764000003000,
  ConversationActiveSecond1764000004000,
];
