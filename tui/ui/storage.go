package ui

import "github.com/nodeconsole/nodeconsole/regclient"

// StorageSentence words a failed write in the state dir so that the
// operator can act on it: a read-only file system, a full disk or missing
// permission, naming the directory.
func StorageSentence(is regclient.StorageIssue) string {
	dir := "the state dir"
	if is.Dir != "" {
		dir += " " + is.Dir
	}
	switch is.Kind {
	case regclient.StorageReadOnly:
		return "Cannot write to " + dir + ": it is on a read-only file system; remount it read-write or set --state-dir."
	case regclient.StorageFull:
		return "Cannot write to " + dir + ": the disk is full; free some space and try again."
	case regclient.StoragePermission:
		return "Cannot write to " + dir + ": permission denied; fix its owner or set --state-dir."
	}
	return "Cannot write to " + dir + "."
}

// ErrorSentence is err as the operator reads it: a storage problem worded
// by StorageSentence, else regclient.Sentence (the log keeps the detail).
// It may look at the file system: call it from a command.
func ErrorSentence(err error) string {
	if is, ok := regclient.Storage(err); ok {
		return StorageSentence(is)
	}
	return regclient.Sentence(err)
}
