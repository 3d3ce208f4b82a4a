import { ApiReference, type OpenApiDoc } from '@/components/api-reference';
import { PageHeader, buttonClass } from '@/components/ui';
import { openapi } from '@/lib/api/openapi';
import { requireViewer } from '@/lib/server/action';

export const dynamic = 'force-dynamic';

/** The same document /api/v1/openapi.json serves, rendered. */
export default async function ApiReferencePage() {
  await requireViewer(['admin']);
  const doc = openapi as unknown as OpenApiDoc;
  return (
    <div>
      <PageHeader
        title={`${doc.info.title} reference`}
        subtitle={
          <>
            {doc.info.description} Every call needs <code>Authorization: Bearer …</code>: create a token under API
            tokens.
          </>
        }
        actions={
          <>
            <a href="/api/v1/openapi.json" className={buttonClass('secondary')}>
              Raw OpenAPI JSON
            </a>
            <a href="/admin/tokens" className={buttonClass('secondary')}>
              API tokens
            </a>
          </>
        }
      />
      <ApiReference doc={doc} />
    </div>
  );
}
