import DataLoader from 'dataloader';
import type { PlanRecord } from './models.js';
import type { PaymentsStore } from './PaymentsStore.js';

/** Per-request access to payments data; its loaders are never shared between requests. */
export class PaymentsDataSource {
  private readonly planById: DataLoader<string, PlanRecord | null>;
  private readonly isPremiumByUserId: DataLoader<string, boolean>;

  constructor(private readonly store: PaymentsStore) {
    this.planById = new DataLoader((ids) => store.plansByIds(ids));
    this.isPremiumByUserId = new DataLoader(async (userIds) => {
      const premium = await store.premiumUserIds(userIds);
      return userIds.map((id) => premium.has(id));
    });
  }

  listPlans(): Promise<PlanRecord[]> {
    return this.store.listPlans();
  }

  getPlan(id: string): Promise<PlanRecord | null> {
    return this.planById.load(id);
  }

  isPremium(userId: string): Promise<boolean> {
    return this.isPremiumByUserId.load(userId);
  }
}
