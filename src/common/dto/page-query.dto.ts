import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** The largest `offset` accepted (beyond it an offset is a bad request, not a query). */
export const MAX_OFFSET = 1_000_000_000;

/** An optional `?offset=` query parameter: an integer from 0 to MAX_OFFSET. */
export function OffsetParam(description?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      example: 0,
      minimum: 0,
      maximum: MAX_OFFSET,
      default: 0,
      description,
    }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(0),
    Max(MAX_OFFSET),
  );
}

/** `?limit=&offset=` of the paged lists: limit 1-100 (default 20), offset ≥ 0 (default 0). */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', example: 20, minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @OffsetParam()
  offset: number = 0;
}
