// The client flow of the API document (section 6), TypeScript → JavaScript: only the type
// annotations and the two URL constants changed (taken from BALTO_URL or the first argument).
import { io } from 'socket.io-client';

const BASE_URL = process.env.BALTO_URL || process.argv[2] || 'http://localhost:5000';
const WEBSOCKET_URL = BASE_URL.replace(/^http/, 'ws');
const API_URL = `${BASE_URL}/classify-partnumber`;

// 1. Iniciar a conexão WebSocket
const socket = io(WEBSOCKET_URL);

// Função principal que orquestra o processo
async function startClassificationProcess(partnumber) {
  socket.on('connect', () => {
    console.log(`Conectado ao WebSocket com ID: ${socket.id}`);
    
    // Agora que temos o ID, podemos fazer a chamada HTTP
    initiateClassification(partnumber, socket.id);
  });
}

// 2. Fazer a chamada HTTP para iniciar a tarefa
async function initiateClassification(partnumber, sessionId) {
  try {
    const response = await fetch(API_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        partnumber: partnumber,
        socket_session_id: sessionId
      })
    });

    if (response.status !== 202) {
      throw new Error('Falha ao iniciar a classificação.');
    }

    const { room_id } = await response.json();
    console.log(`Tarefa iniciada. Inscrevendo-se na sala: ${room_id}`);

    // 3. Inscrever-se na sala para receber atualizações
    socket.emit('join', { room_id: room_id });
    
    // 4. Configurar listeners para os eventos de progresso e finalização
    setupListeners();

  } catch (error) {
    console.error("Erro no processo de classificação:", error);
  }
}

// Função para registrar os listeners de eventos
function setupListeners() {
  socket.on('classification_update_status', (data) => {
    console.log('UPDATE:', data);
    // Lógica para atualizar a UI com o progresso
    // ex: updateProgressBar(data.progress);
  });

  socket.on('classification_finished', (data) => {
    console.log('FINISHED:', data);
    // Lógica para exibir o resultado final
    // ex: displayResult(data.result);

    // Tarefa concluída, podemos desconectar
    socket.disconnect();
  });
}

// Iniciar o processo
startClassificationProcess("PN-TS-TEST-12345");
