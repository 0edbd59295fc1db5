import type { Decider } from '../decider.js';
import {
  sameValue,
  type AccessTier,
  type DocumentMetadata,
  type Snapshot,
  type SourceType,
} from './document.js';
import {
  DocumentErasedError,
  DocumentExistsError,
  DocumentNotFoundError,
  DocumentRetiredError,
  VersionNotFoundError,
} from './errors.js';

// Commands: imperative. Ids and times come in on the command; the decider never makes them.
export type DocumentCommand =
  | {
      type: 'UploadDocument';
      documentId: string;
      coachId: string;
      sourceId: string;
      sourceType: SourceType;
      snapshot: Snapshot;
      /** Where an import found it (a folder's relative path): later imports of that path are its new versions. */
      sourcePath?: string;
    }
  | {
      type: 'EditDocument';
      documentId: string;
      content?: string;
      metadata?: Partial<DocumentMetadata>;
      changeSummary?: string;
    }
  | { type: 'ReplaceFile'; documentId: string; snapshot: Snapshot; changeSummary?: string }
  | { type: 'RollBackDocument'; documentId: string; toVersion: number; reason?: string }
  | { type: 'RetireDocument'; documentId: string; reason?: string }
  | { type: 'EraseDocument'; documentId: string; reason: string };

// Events: past tense. Every event is a new version of the document.
export type DocumentEvent =
  | {
      type: 'DocumentUploaded';
      data: {
        documentId: string;
        coachId: string;
        sourceId: string;
        sourceType: SourceType;
        snapshot: Snapshot;
        sourcePath?: string;
      };
    }
  | {
      type: 'DocumentEdited';
      data: {
        documentId: string;
        snapshot: Snapshot;
        changed: Array<'content' | 'metadata' | 'title'>;
        changeSummary?: string;
      };
    }
  | { type: 'DocumentFileReplaced'; data: { documentId: string; snapshot: Snapshot; changeSummary?: string } }
  | {
      type: 'DocumentRolledBack';
      data: { documentId: string; toVersion: number; snapshot: Snapshot; reason?: string };
    }
  | { type: 'DocumentRetired'; data: { documentId: string; reason?: string } }
  | { type: 'DocumentErased'; data: { documentId: string; reason: string; accessTier: AccessTier } };

export type DocumentState =
  | { status: 'none' }
  | {
      status: 'active' | 'retired';
      documentId: string;
      coachId: string;
      version: number;
      current: Snapshot;
      versions: Snapshot[];
    }
  | { status: 'erased'; documentId: string; coachId: string; version: number };

type Live = Extract<DocumentState, { status: 'active' | 'retired' }>;

function live(state: DocumentState, documentId: string): Live {
  if (state.status === 'none') throw new DocumentNotFoundError(documentId);
  if (state.status === 'erased') throw new DocumentErasedError(documentId);
  return state;
}

function active(state: DocumentState, documentId: string): Live {
  const doc = live(state, documentId);
  if (doc.status === 'retired') throw new DocumentRetiredError(documentId);
  return doc;
}

function edit(
  state: DocumentState,
  command: Extract<DocumentCommand, { type: 'EditDocument' }>,
): DocumentEvent[] {
  const doc = active(state, command.documentId);
  const metadata = { ...doc.current.metadata, ...command.metadata } as DocumentMetadata;
  const title = typeof command.metadata?.title === 'string' ? command.metadata.title : doc.current.title;
  const content = command.content ?? doc.current.content;
  const changed: Array<'content' | 'metadata' | 'title'> = [];
  if (content !== doc.current.content) changed.push('content');
  if (!sameValue(metadata, doc.current.metadata)) changed.push('metadata');
  if (title !== doc.current.title) changed.push('title');
  if (changed.length === 0) return [];
  // New text is no longer what the old file, its pages and its headings describe.
  const snapshot: Snapshot = changed.includes('content')
    ? { title, content, metadata, format: doc.current.format === 'markdown' ? 'markdown' : 'text' }
    : { ...doc.current, title, metadata };
  return [
    {
      type: 'DocumentEdited',
      data: { documentId: doc.documentId, snapshot, changed, changeSummary: command.changeSummary },
    },
  ];
}

function decide(command: DocumentCommand, state: DocumentState): DocumentEvent[] {
  switch (command.type) {
    case 'UploadDocument': {
      if (state.status !== 'none') throw new DocumentExistsError(command.documentId);
      const { documentId, coachId, sourceId, sourceType, snapshot, sourcePath } = command;
      const data = {
        documentId,
        coachId,
        sourceId,
        sourceType,
        snapshot,
        ...(sourcePath ? { sourcePath } : {}),
      };
      return [{ type: 'DocumentUploaded', data }];
    }
    case 'EditDocument':
      return edit(state, command);
    case 'ReplaceFile': {
      const doc = active(state, command.documentId);
      if (sameValue(command.snapshot, doc.current)) return [];
      const data = {
        documentId: doc.documentId,
        snapshot: command.snapshot,
        changeSummary: command.changeSummary,
      };
      return [{ type: 'DocumentFileReplaced', data }];
    }
    case 'RollBackDocument': {
      const doc = live(state, command.documentId);
      const target = doc.versions[command.toVersion - 1];
      if (!Number.isInteger(command.toVersion) || !target)
        throw new VersionNotFoundError(doc.documentId, command.toVersion, doc.version);
      if (doc.status === 'active' && sameValue(target, doc.current)) return [];
      const data = {
        documentId: doc.documentId,
        toVersion: command.toVersion,
        snapshot: target,
        reason: command.reason,
      };
      return [{ type: 'DocumentRolledBack', data }];
    }
    case 'RetireDocument': {
      const doc = live(state, command.documentId);
      return doc.status === 'retired'
        ? []
        : [{ type: 'DocumentRetired', data: { documentId: doc.documentId, reason: command.reason } }];
    }
    case 'EraseDocument': {
      if (state.status === 'none') throw new DocumentNotFoundError(command.documentId);
      if (state.status === 'erased') return [];
      // The tier stays readable after the key is gone: it decides who may see that the erasure happened.
      const accessTier = state.current.metadata.accessTier;
      return [
        {
          type: 'DocumentErased',
          data: { documentId: state.documentId, reason: command.reason, accessTier },
        },
      ];
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

function evolve(state: DocumentState, event: DocumentEvent): DocumentState {
  switch (event.type) {
    case 'DocumentUploaded': {
      const { documentId, coachId, snapshot } = event.data;
      return { status: 'active', documentId, coachId, version: 1, current: snapshot, versions: [snapshot] };
    }
    case 'DocumentEdited':
    case 'DocumentFileReplaced':
    case 'DocumentRolledBack': {
      if (state.status !== 'active' && state.status !== 'retired') return state;
      const snapshot = event.data.snapshot;
      return {
        ...state,
        status: 'active',
        version: state.version + 1,
        current: snapshot,
        versions: [...state.versions, snapshot],
      };
    }
    case 'DocumentRetired': {
      if (state.status !== 'active') return state;
      return {
        ...state,
        status: 'retired',
        version: state.version + 1,
        versions: [...state.versions, state.current],
      };
    }
    case 'DocumentErased': {
      if (state.status === 'none') return state;
      return {
        status: 'erased',
        documentId: state.documentId,
        coachId: state.coachId,
        version: state.version + 1,
      };
    }
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${(unknown as { type: string }).type}`);
    }
  }
}

export const documentDecider: Decider<DocumentState, DocumentCommand, DocumentEvent> = {
  initialState: () => ({ status: 'none' }),
  decide,
  evolve,
};
