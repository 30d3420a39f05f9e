import '@testing-library/jest-dom/vitest';
import { configure } from '@testing-library/react';
import './i18n';

// waitFor and findBy* give up after this long. Their default of 1 s failed tests whose renders
// took longer while C++ builds loaded both cores, so the limit guards against a hang only.
configure({ asyncUtilTimeout: 15_000 });
