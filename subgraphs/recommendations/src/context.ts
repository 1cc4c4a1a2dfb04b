import type { Viewer } from '@fitness/auth';
import type { Logger } from '@fitness/server-kit';
import type { RecommendationCache } from './datasources/RecommendationCache.js';
import {
  RecommendationsDataSource,
  type RecommendationsDataSourceOptions,
} from './datasources/RecommendationsDataSource.js';

export interface Context {
  viewer: Viewer;
  logger: Logger;
  dataSources: { recommendations: RecommendationsDataSource };
}

export function createContext(
  viewer: Viewer,
  cache: RecommendationCache,
  logger: Logger,
  options: RecommendationsDataSourceOptions = {},
): Context {
  return {
    viewer,
    logger,
    dataSources: { recommendations: new RecommendationsDataSource(cache, logger, options) },
  };
}
