import { findCategory } from './categories.js';
import type { CategoryLookup } from './catalogue.js';
import type { TenantPolicy } from './schemas/admin.js';
import type { Category } from './schemas/category.js';

/**
 * Whether a category's tickets are public or private in a tenant: its policy, else the category
 * (the tenant's current definition from `current`, the built-in list by default). A category
 * nobody knows is private: nothing is shown by mistake.
 */
export function categoryVisibility(
  code: string,
  policy: Pick<TenantPolicy, 'categoryVisibility'>,
  current: CategoryLookup = findCategory,
): 'public' | 'private' {
  const chosen = policy.categoryVisibility?.[code];
  if (chosen) return chosen;
  const category = current(code);
  return category && !category.private ? 'public' : 'private';
}

/**
 * Whether a ticket may be shown to a reader without credentials (Open311 reads, photo URLs):
 * only when the tenant publishes at all, and only tickets of its public categories. Unless the
 * policy names the category, a ticket is private when its category is private now or was when
 * it was reported.
 */
export function isPublished(
  ticket: { category: string; categoryAsReported?: Category | undefined },
  policy: Pick<TenantPolicy, 'publicReads' | 'categoryVisibility'>,
  current: CategoryLookup = findCategory,
): boolean {
  if (policy.publicReads !== true || categoryVisibility(ticket.category, policy, current) !== 'public') return false;
  return policy.categoryVisibility?.[ticket.category] !== undefined || ticket.categoryAsReported?.private !== true;
}
