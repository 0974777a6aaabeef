import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { ApiAuth, ApiEnvelope, ApiErrors } from '../common/decorators/api-envelope.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { ErrorCode } from '../common/errors/error-code';
import { UuidPipe } from '../common/http/uuid.pipe';
import {
  AddMembersDto,
  ChangeRoleDto,
  CreateGroupDto,
  UpdateGroupDto,
} from './dto/group-requests.dto';
import {
  AddedMembersDto,
  GroupDetailDto,
  GroupDto,
  GroupListDto,
  GroupMemberPageDto,
  MemberRoleDto,
} from './dto/group-responses.dto';
import { GroupsService } from './groups.service';

const GROUP_ID = 'group_id';
/** The documented `:group_id` path parameter. */
const ApiGroupId = () => ApiParam({ name: GROUP_ID, format: 'uuid' });

@ApiTags('groups')
@ApiAuth()
@Controller('group')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Create a group (the creator becomes its owner and first member)' })
  @ApiEnvelope(GroupDto)
  @ApiErrors(ErrorCode.BadRequest)
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateGroupDto): Promise<GroupDto> {
    return this.groups.create(user.id, dto);
  }

  @Get()
  @ApiOperation({ summary: 'The groups I belong to' })
  @ApiEnvelope(GroupListDto)
  listMine(@CurrentUser() user: AuthUser): Promise<GroupListDto> {
    return this.groups.listMine(user.id);
  }

  @Get(':group_id')
  @ApiGroupId()
  @ApiOperation({ summary: 'Group detail (members only)' })
  @ApiEnvelope(GroupDetailDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  detail(
    @CurrentUser() user: AuthUser,
    @Param(GROUP_ID, UuidPipe) groupId: string,
  ): Promise<GroupDetailDto> {
    return this.groups.getDetail(user.id, groupId);
  }

  @Put(':group_id')
  @ApiGroupId()
  @ApiOperation({ summary: 'Update name, description or avatar (owner or admin)' })
  @ApiEnvelope(GroupDetailDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  update(
    @CurrentUser() user: AuthUser,
    @Param(GROUP_ID, UuidPipe) groupId: string,
    @Body() dto: UpdateGroupDto,
  ): Promise<GroupDetailDto> {
    return this.groups.update(user.id, groupId, dto);
  }

  @Delete(':group_id')
  @ApiGroupId()
  @ApiOperation({ summary: 'Delete the group (owner only)' })
  @ApiEnvelope(null)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  remove(@CurrentUser() user: AuthUser, @Param(GROUP_ID, UuidPipe) groupId: string): Promise<null> {
    return this.groups.remove(user.id, groupId);
  }

  @Get(':group_id/members')
  @ApiGroupId()
  @ApiOperation({ summary: 'Members, oldest first, paged (members only)' })
  @ApiEnvelope(GroupMemberPageDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  members(
    @CurrentUser() user: AuthUser,
    @Param(GROUP_ID, UuidPipe) groupId: string,
    @Query() page: PageQueryDto,
  ): Promise<GroupMemberPageDto> {
    return this.groups.listMembers(user.id, groupId, page.limit, page.offset);
  }

  @Post(':group_id/members')
  @ApiGroupId()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Add users (owner or admin)',
    description:
      'Idempotent: users already in the group are skipped. Any unknown id → 404 and nobody is added.',
  })
  @ApiEnvelope(AddedMembersDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  addMembers(
    @CurrentUser() user: AuthUser,
    @Param(GROUP_ID, UuidPipe) groupId: string,
    @Body() dto: AddMembersDto,
  ): Promise<AddedMembersDto> {
    return this.groups.addMembers(user.id, groupId, dto.user_ids);
  }

  @Delete(':group_id/members/:user_id')
  @ApiGroupId()
  @ApiOperation({ summary: 'Remove a member (owner: anyone but themself; admin: plain members)' })
  @ApiParam({ name: 'user_id', format: 'uuid' })
  @ApiEnvelope(null)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  removeMember(
    @CurrentUser() user: AuthUser,
    @Param(GROUP_ID, UuidPipe) groupId: string,
    @Param('user_id', UuidPipe) userId: string,
  ): Promise<null> {
    return this.groups.removeMember(user.id, groupId, userId);
  }

  @Post(':group_id/leave')
  @ApiGroupId()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Leave the group',
    description:
      'An owner leaving hands ownership to the oldest admin, else the oldest member; the last member leaving deletes the group.',
  })
  @ApiEnvelope(null)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  leave(@CurrentUser() user: AuthUser, @Param(GROUP_ID, UuidPipe) groupId: string): Promise<null> {
    return this.groups.leave(user.id, groupId);
  }

  @Put(':group_id/members/:user_id/role')
  @ApiGroupId()
  @ApiOperation({ summary: "Change a member's role to admin or member (owner only)" })
  @ApiParam({ name: 'user_id', format: 'uuid' })
  @ApiEnvelope(MemberRoleDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Forbidden, ErrorCode.NotFound)
  changeRole(
    @CurrentUser() user: AuthUser,
    @Param(GROUP_ID, UuidPipe) groupId: string,
    @Param('user_id', UuidPipe) userId: string,
    @Body() dto: ChangeRoleDto,
  ): Promise<MemberRoleDto> {
    return this.groups.changeRole(user.id, groupId, userId, dto.role);
  }
}
