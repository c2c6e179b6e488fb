package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// sqliteConn is one connection with its prepared statements, used only by
// the goroutine that owns it.
type sqliteConn struct {
	conn *sql.Conn
	st   [numStatements]*sql.Stmt
}

// ctx is the context of every statement: never cancelled (see sqliteStore).
var sqliteCtx = context.Background()

// newSQLiteConn takes a connection of db and prepares every statement on
// it (the writer's BEGIN is BEGIN IMMEDIATE).
func newSQLiteConn(ctx context.Context, db *sql.DB, writer bool) (*sqliteConn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	c := &sqliteConn{conn: conn}
	for i, q := range statementSQL {
		if i == qBegin && writer {
			q = `BEGIN IMMEDIATE`
		}
		st, err := conn.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		c.st[i] = st
	}
	return c, nil
}

func (c *sqliteConn) stmt(q int) *sql.Stmt { return c.st[q] }

func (c *sqliteConn) exec(q int) error {
	_, err := c.stmt(q).ExecContext(sqliteCtx)
	return err
}

func (c *sqliteConn) close() {
	for _, st := range c.st {
		if st != nil {
			st.Close()
		}
	}
	c.conn.Close()
}

// call runs call.fn, catching a panic for the caller's goroutine.
func (c *sqliteConn) call(call *storeCall) (err error) {
	defer func() {
		if p := recover(); p != nil {
			call.panic = p
			err = fmt.Errorf("controlplane: panic in a transaction: %v", p)
		}
	}()
	return call.fn(&sqliteTx{c: c})
}

// view runs one read transaction.
func (c *sqliteConn) view(call *storeCall) {
	if call.err = call.ctx.Err(); call.err != nil {
		return
	}
	if err := c.exec(qBegin); err != nil {
		call.err = fmt.Errorf("controlplane: begin transaction: %w", err)
		return
	}
	call.err = c.call(call)
	if err := c.exec(qCommit); err != nil {
		c.exec(qRollback)
		if call.err == nil {
			call.err = fmt.Errorf("controlplane: end read transaction: %w", err)
		}
	}
}

// commitBatch runs every call of batch in one write transaction, each in
// a savepoint, and commits once.
func (c *sqliteConn) commitBatch(batch []*storeCall) {
	fail := func(err error) {
		for _, call := range batch {
			if call.err == nil && call.panic == nil {
				call.err = err
			}
		}
	}
	if err := c.exec(qBegin); err != nil {
		fail(fmt.Errorf("controlplane: begin transaction: %w", err))
		return
	}
	ran := false
	for _, call := range batch {
		if call.err = call.ctx.Err(); call.err != nil {
			continue
		}
		if err := c.exec(qSavepoint); err != nil {
			c.exec(qRollback)
			fail(fmt.Errorf("controlplane: savepoint: %w", err))
			return
		}
		call.err = c.call(call)
		if call.err != nil {
			if err := c.exec(qRollbackTo); err != nil {
				c.exec(qRollback)
				fail(fmt.Errorf("controlplane: roll back to savepoint: %w", err))
				return
			}
		} else {
			ran = true
		}
		if err := c.exec(qRelease); err != nil {
			c.exec(qRollback)
			fail(fmt.Errorf("controlplane: release savepoint: %w", err))
			return
		}
	}
	if !ran {
		c.exec(qRollback)
		return
	}
	if err := c.exec(qCommit); err != nil {
		c.exec(qRollback)
		fail(fmt.Errorf("controlplane: commit: %w", err))
	}
}
