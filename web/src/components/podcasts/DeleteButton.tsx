// A delete button that needs a second click, on "Delete for good", before it calls `onConfirm`.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../ui';

export function DeleteButton({ onConfirm, disabled = false }: { onConfirm: () => void; disabled?: boolean }) {
  const { t } = useTranslation();
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <Button variant="ghost" className="text-red-600" onClick={() => setConfirming(true)}>
        {t('common.delete')}
      </Button>
    );
  }
  return (
    <>
      <Button
        variant="danger"
        disabled={disabled}
        onClick={() => {
          setConfirming(false);
          onConfirm();
        }}
      >
        {t('podcasts.confirmDelete')}
      </Button>
      <Button variant="ghost" onClick={() => setConfirming(false)}>
        {t('common.cancel')}
      </Button>
    </>
  );
}
