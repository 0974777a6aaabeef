import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuth, ApiEnvelope, ApiErrors } from '../common/decorators/api-envelope.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { ErrorCode } from '../common/errors/error-code';
import { UuidPipe } from '../common/http/uuid.pipe';
import type { AuthUser } from '../auth/auth-user';
import { SearchUsersDto } from './dto/search-users.dto';
import { UpdateProfileDto } from './dto/update-profile.dto';
import {
  ProfileDto,
  PublicProfileDto,
  UpdatedProfileDto,
  UserSearchResultDto,
} from './dto/user-responses.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiAuth()
@Controller('user')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('profile')
  @ApiOperation({ summary: 'My profile' })
  @ApiEnvelope(ProfileDto)
  getProfile(@CurrentUser() user: AuthUser): Promise<ProfileDto> {
    return this.users.getProfile(user.id);
  }

  @Put('profile')
  @ApiOperation({ summary: 'Update my profile (any of username, avatar, phone)' })
  @ApiEnvelope(UpdatedProfileDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Conflict)
  updateProfile(
    @CurrentUser() user: AuthUser,
    @Body() dto: UpdateProfileDto,
  ): Promise<UpdatedProfileDto> {
    return this.users.updateProfile(user.id, dto);
  }

  @Get('search')
  @ApiOperation({ summary: 'Find users by username prefix or exact email' })
  @ApiEnvelope(UserSearchResultDto)
  @ApiErrors(ErrorCode.BadRequest)
  search(@Query() query: SearchUsersDto): Promise<UserSearchResultDto> {
    return this.users.search(query.keyword, query.limit);
  }

  @Get(':user_id')
  @ApiOperation({ summary: "A user's public profile" })
  @ApiParam({ name: 'user_id', format: 'uuid' })
  @ApiEnvelope(PublicProfileDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.NotFound)
  getPublicProfile(@Param('user_id', UuidPipe) userId: string): Promise<PublicProfileDto> {
    return this.users.getPublicProfile(userId);
  }
}
