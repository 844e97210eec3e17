import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm'
import { epochMs } from './columns.js'

export type UserRole = 'viewer' | 'operator' | 'admin'

@Entity('users')
@Unique('uq_users_username', ['username'])
export class User {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'varchar', length: 64 })
  username!: string

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string

  @Column({ type: 'varchar', length: 16, default: 'viewer' })
  role!: UserRole

  @Column({ type: 'boolean', default: true })
  enabled!: boolean

  @Column({ ...epochMs, name: 'created_at' })
  createdAt!: number

  @Column({ ...epochMs, name: 'updated_at' })
  updatedAt!: number

  @Column({ ...epochMs, name: 'last_login_at', nullable: true })
  lastLoginAt!: number | null

  /**
   * Carried by each login token; bumped by a password change, a new role or a disable, which revokes the older ones.
   */
  @Column({ name: 'token_version', type: 'integer', default: 0 })
  tokenVersion!: number
}
